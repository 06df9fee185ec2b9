//! What the caller supplies: public URLs of SmartSuite files and Webflow ids of linked records.
//!
//! The mapper does no I/O, so the caller resolves ahead of time (see
//! [`crate::CompiledMapping::lookups`]) and answers from memory here.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashMap};

/// Turns a SmartSuite file handle into a public URL
/// (`GET /shared-files/{handle}/url/`, cached by handle).
pub trait FileUrlResolver {
    /// The public URL of the file, or `None` (the field gets a warning).
    fn public_url(&self, handle: &str) -> Option<String>;
}

/// Turns a SmartSuite record id into the Webflow item id of its synced item (the id map).
pub trait LinkedRecordResolver {
    /// The Webflow item id, or `None` (a warning, not a failure). `connection` is the
    /// `reference` entry's `connection`, `None` for this connection.
    fn webflow_item_id(
        &self,
        connection: Option<&str>,
        smartsuite_record_id: &str,
    ) -> Option<String>;
}

/// Both resolvers; implemented for every type that implements the two traits.
pub trait Resolvers: FileUrlResolver + LinkedRecordResolver {}

impl<T: FileUrlResolver + LinkedRecordResolver + ?Sized> Resolvers for T {}

/// Resolves nothing: every file and linked record becomes a warning.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoResolvers;

impl FileUrlResolver for NoResolvers {
    fn public_url(&self, _handle: &str) -> Option<String> {
        None
    }
}

impl LinkedRecordResolver for NoResolvers {
    fn webflow_item_id(
        &self,
        _connection: Option<&str>,
        _smartsuite_record_id: &str,
    ) -> Option<String> {
        None
    }
}

/// Resolvers backed by maps, for previews and tests.
#[derive(Debug, Clone, Default)]
pub struct MapResolvers {
    /// File handle → public URL.
    pub files: HashMap<String, String>,
    /// Connection (`""` for this one) → SmartSuite record id → Webflow item id.
    pub records: HashMap<String, HashMap<String, String>>,
}

impl MapResolvers {
    /// Adds a file URL.
    pub fn with_file(mut self, handle: &str, url: &str) -> Self {
        self.files.insert(handle.to_string(), url.to_string());
        self
    }

    /// Adds a linked record (`connection` `None` = this connection).
    pub fn with_record(
        mut self,
        connection: Option<&str>,
        smartsuite_id: &str,
        webflow_id: &str,
    ) -> Self {
        self.records
            .entry(connection.unwrap_or("").to_string())
            .or_default()
            .insert(smartsuite_id.to_string(), webflow_id.to_string());
        self
    }
}

impl FileUrlResolver for MapResolvers {
    fn public_url(&self, handle: &str) -> Option<String> {
        self.files.get(handle).cloned()
    }
}

impl LinkedRecordResolver for MapResolvers {
    fn webflow_item_id(
        &self,
        connection: Option<&str>,
        smartsuite_record_id: &str,
    ) -> Option<String> {
        self.records
            .get(connection.unwrap_or(""))
            .and_then(|ids| ids.get(smartsuite_record_id))
            .cloned()
    }
}

/// What a record needs resolved before it can be mapped without warnings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lookups {
    /// SmartSuite file handles that need a public URL.
    pub file_handles: BTreeSet<String>,
    /// (connection, SmartSuite record id) pairs that need a Webflow item id.
    pub linked_records: BTreeSet<(Option<String>, String)>,
}

/// Records every question and answers none.
#[derive(Default)]
pub(crate) struct Recorder {
    pub(crate) lookups: RefCell<Lookups>,
}

impl FileUrlResolver for Recorder {
    fn public_url(&self, handle: &str) -> Option<String> {
        self.lookups
            .borrow_mut()
            .file_handles
            .insert(handle.to_string());
        None
    }
}

impl LinkedRecordResolver for Recorder {
    fn webflow_item_id(
        &self,
        connection: Option<&str>,
        smartsuite_record_id: &str,
    ) -> Option<String> {
        self.lookups.borrow_mut().linked_records.insert((
            connection.map(str::to_string),
            smartsuite_record_id.to_string(),
        ));
        None
    }
}
