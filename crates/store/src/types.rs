//! Rust mirrors of the PostgreSQL enums (`crate::schema::sql_types`).

use std::fmt;
use std::io::Write as _;
use std::str::FromStr;

use diesel::deserialize::{self, FromSql};
use diesel::pg::{Pg, PgValue};
use diesel::serialize::{self, IsNull, Output, ToSql};

use crate::schema::sql_types;

/// A label that is not one of the enum's values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{label}`")]
pub struct UnknownLabel {
    pub kind: &'static str,
    pub label: String,
}

macro_rules! pg_enum {
    ($(#[$meta:meta])* $name:ident : $sql:ident { $($(#[$vmeta:meta])* $variant:ident => $label:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash,
            serde::Serialize, serde::Deserialize,
            diesel::expression::AsExpression, diesel::deserialize::FromSqlRow,
        )]
        #[diesel(sql_type = sql_types::$sql)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $label)] $variant),+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The PostgreSQL label.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $label),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = UnknownLabel;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($label => Ok(Self::$variant),)+
                    other => Err(UnknownLabel { kind: stringify!($name), label: other.to_owned() }),
                }
            }
        }

        impl ToSql<sql_types::$sql, Pg> for $name {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                out.write_all(self.as_str().as_bytes())?;
                Ok(IsNull::No)
            }
        }

        impl FromSql<sql_types::$sql, Pg> for $name {
            fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
                let label = std::str::from_utf8(bytes.as_bytes())?;
                Ok(label.parse::<Self>()?)
            }
        }
    };
}

pg_enum!(
    /// Whether a connection's events are processed.
    ConnectionStatus: ConnectionStatus {
        /// Events are claimed and processed.
        Active => "active",
        /// Stopped by an operator; events wait.
        Paused => "paused",
        /// Stopped by a credentials error; events wait.
        Error => "error",
        /// Retired; kept for its history.
        Archived => "archived",
    }
);

pg_enum!(
    /// How signed pushes to a connection are authenticated.
    WebhookScheme: WebhookScheme {
        Hmac => "hmac",
        Standard => "standard",
    }
);

pg_enum!(
    /// A mapping's `deleteBehavior` as the `mappings` table stores it: what a record deletion
    /// does to its Webflow item. The mapping document's own type is the mapper's
    /// `DeleteBehavior`; the sync engine converts between the two.
    StoredDeleteBehavior: DeleteBehavior {
        Archive => "archive",
        Unpublish => "unpublish",
        Delete => "delete",
    }
);

pg_enum!(
    /// Where an id map entry stands.
    IdMapState: IdMapState {
        /// A create was attempted; its outcome may be unknown (resolve by slug).
        Creating => "creating",
        /// The item exists and holds the last fieldData sent.
        Synced => "synced",
        /// The item was deleted (or archived) for a deleted record.
        Deleted => "deleted",
    }
);

pg_enum!(
    /// What an event asks the worker to do.
    EventKind: EventKind {
        /// Write one record's change to Webflow.
        Record => "record",
        /// Pull SmartSuite's change events from the stored cursor.
        Pull => "pull",
    }
);

pg_enum!(
    /// Where an event stands in the queue.
    EventStatus: EventStatus {
        Queued => "queued",
        Processing => "processing",
        Success => "success",
        Failed => "failed",
        DeadLetter => "dead_letter",
        /// Superseded by a newer event for the same record.
        Skipped => "skipped",
    }
);
