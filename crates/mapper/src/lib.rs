#![doc = include_str!("../README.md")]

mod compat;
mod convert;
mod document;
mod hash;
mod mapping;
mod native;
mod path;
mod resolve;
pub mod schema;
mod slug;
mod template;
mod transform;
mod value;
mod warning;

pub use compat::{compatible_types, is_compatible};
pub use document::{
    DeleteBehavior, DocumentError, DocumentFormat, FieldSpec, MappingDocument, StatusBehavior,
};
pub use hash::content_hash;
pub use mapping::{
    CompiledMapping, ItemStatus, MapError, MappedItem, MappingProblem, SYSTEM_KEYS, validate,
};
pub use resolve::{
    FileUrlResolver, LinkedRecordResolver, Lookups, MapResolvers, NoResolvers, Resolvers,
};
pub use slug::{MAX_SLUG_LEN, Slug, SlugError};
pub use transform::{ApplyError, ApplyProblem, Transform, TransformError};
pub use warning::{Warning, WarningKind};
