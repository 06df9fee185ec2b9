#![doc = include_str!("../README.md")]

mod compat;
mod convert;
mod date_pattern;
mod document;
mod hash;
mod mapping;
mod matching;
mod native;
mod path;
mod render;
mod resolve;
pub mod schema;
mod slug;
mod status;
mod template;
mod transform;
mod validation;
mod value;
mod warning;

pub use compat::{compatible_types, is_compatible};
pub use document::{
    DeleteBehavior, DocumentError, DocumentFormat, FieldSpec, MappingDocument, MatchRule,
    StatusBehavior,
};
pub use hash::content_hash;
pub use mapping::{CompiledMapping, MapError, MappedItem};
pub use matching::{MatchOn, match_text};
pub use resolve::{
    FileUrlResolver, LinkedRecordResolver, Lookups, MapResolvers, NoResolvers, Resolvers,
};
pub use slug::{MAX_SLUG_LEN, Slug, SlugError};
pub use status::ItemStatus;
pub use transform::{ApplyError, ApplyProblem, Transform, TransformError};
pub use validation::{MappingProblem, SYSTEM_KEYS, validate};
pub use warning::{Warning, WarningKind};
