//! Hand-written SQL that diesel may cache as a prepared statement.
//!
//! `diesel::sql_query` marks itself unsafe to cache, so every call parses and plans the
//! statement again and costs an extra round trip to prepare it. The queue's statements are
//! static text, so [`Prepared`] renders them the same way every time (each `$n` becomes a bind
//! pushed in order, repeated references bind the value again) and diesel-async keeps one
//! prepared statement per connection, keyed by that text.

use std::marker::PhantomData;

use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::serialize::ToSql;
use diesel::sql_types::{HasSqlType, Untyped};

/// One bind value of a [`Prepared`] statement.
trait BindValue: Send + Sync {
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()>;
}

struct Bind<ST, T>(T, PhantomData<fn() -> ST>);

impl<ST, T> BindValue for Bind<ST, T>
where
    Pg: HasSqlType<ST>,
    T: ToSql<ST, Pg> + Send + Sync,
{
    fn push<'b>(&'b self, out: &mut AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_bind_param::<ST, T>(&self.0)
    }
}

/// A static SQL text with `$1`, `$2`, … placeholders and its bind values.
pub(crate) struct Prepared<'a> {
    sql: &'static str,
    binds: Vec<Box<dyn BindValue + 'a>>,
}

/// Starts a cacheable statement (see the module docs).
pub(crate) fn prepared(sql: &'static str) -> Prepared<'static> {
    Prepared {
        sql,
        binds: Vec::new(),
    }
}

impl<'a> Prepared<'a> {
    /// Adds the value of the next placeholder (`$1` first).
    pub(crate) fn bind<ST, T>(mut self, value: T) -> Self
    where
        Pg: HasSqlType<ST>,
        T: ToSql<ST, Pg> + Send + Sync + 'a,
        ST: 'a,
    {
        self.binds.push(Box::new(Bind::<ST, T>(value, PhantomData)));
        self
    }
}

impl QueryId for Prepared<'_> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl Query for Prepared<'_> {
    type SqlType = Untyped;
}

impl QueryFragment<Pg> for Prepared<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // Our statements have no string literals holding `$n` or `--`; comments are dropped
        // (they may mention placeholders).
        let mut rest = self.sql;
        loop {
            let next = rest.find(['$', '-']);
            let Some(at) = next else { break };
            if rest[at..].starts_with("--") {
                out.push_sql(&rest[..at]);
                rest = rest[at..].find('\n').map_or("", |eol| &rest[at + eol..]);
                continue;
            }
            if !rest[at..].starts_with('$') {
                out.push_sql(&rest[..=at]);
                rest = &rest[at + 1..];
                continue;
            }
            let digits = rest[at + 1..]
                .bytes()
                .take_while(u8::is_ascii_digit)
                .count();
            if digits == 0 {
                out.push_sql(&rest[..=at]);
                rest = &rest[at + 1..];
                continue;
            }
            out.push_sql(&rest[..at]);
            let index: usize = rest[at + 1..at + 1 + digits].parse().unwrap_or(0);
            let bind = index
                .checked_sub(1)
                .and_then(|i| self.binds.get(i))
                .ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(
                        format!("statement placeholder ${index} has no bind value").into(),
                    )
                })?;
            bind.push(&mut out)?;
            rest = &rest[at + 1 + digits..];
        }
        out.push_sql(rest);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::sql_types::{Int4, Text};

    #[test]
    fn placeholders_become_sequential_binds_and_repeats_bind_again() {
        let query = prepared("-- uses $1 and $2\nSELECT $2, $1 WHERE x = $2 AND y = '$' - 1 -- $9")
            .bind::<Int4, _>(1)
            .bind::<Text, _>("a");
        let sql = diesel::debug_query::<Pg, _>(&query).to_string();
        assert!(
            sql.starts_with("\nSELECT $1, $2 WHERE x = $3 AND y = '$' - 1  -- binds"),
            "{sql}"
        );
        assert!(sql.contains(r#"binds: ["a", 1, "a"]"#), "{sql}");
    }

    #[test]
    fn a_missing_bind_is_an_error_not_a_panic() {
        let query = prepared("SELECT $1, $2").bind::<Int4, _>(1);
        let mut out = String::new();
        let rendered = std::fmt::write(
            &mut out,
            format_args!("{}", diesel::debug_query::<Pg, _>(&query)),
        );
        assert!(rendered.is_err());
    }
}
