//! The store's settings part: `DATABASE_URL`.

use std::time::Duration;

use suiteflow_crypto::SecretString;
use suiteflow_settings::Reader;

/// How to reach PostgreSQL. The URL holds a password, so it is a [`SecretString`].
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: SecretString,
    /// Connections in this process's pool.
    pub pool_size: usize,
    /// `statement_timeout` set on every connection.
    pub statement_timeout: Duration,
    /// `application_name` set on every connection (the binary's name).
    pub application_name: String,
}

impl DatabaseConfig {
    pub fn read(r: &mut Reader<'_>, application_name: &str) -> Option<Self> {
        let url = r.required("DATABASE_URL", parse_postgres_url)?;
        Some(Self {
            url,
            pool_size: 16,
            statement_timeout: Duration::from_secs(30),
            application_name: application_name.to_string(),
        })
    }
}

fn parse_postgres_url(raw: &str) -> Result<SecretString, String> {
    let rule = || String::from("must be a postgres:// or postgresql:// URL");
    let url = url::Url::parse(raw.trim()).map_err(|_| rule())?;
    if !matches!(url.scheme(), "postgres" | "postgresql") {
        return Err(rule());
    }
    Ok(SecretString::new(raw.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use suiteflow_settings::Source;

    fn read(value: Option<&str>) -> Result<DatabaseConfig, suiteflow_settings::Problems> {
        let env = value.map(|v| ("DATABASE_URL".to_string(), v.to_string()));
        let source = Source::new(None, env).unwrap();
        let mut r = Reader::new(&source);
        let part = DatabaseConfig::read(&mut r, "test");
        r.finish(|| part)
    }

    #[test]
    fn postgres_urls_are_accepted() {
        for ok in [
            "postgres://u:p@localhost/db",
            "postgresql://localhost:5433/db?sslmode=disable",
        ] {
            assert_eq!(read(Some(ok)).unwrap().url.expose(), ok);
        }
    }

    #[test]
    fn other_schemes_and_absence_are_refused_without_echoing_the_value() {
        let problems = read(Some("mysql://root:hunter2@localhost/db")).unwrap_err();
        assert!(problems.names("DATABASE_URL"));
        assert!(!problems.lines().join("").contains("hunter2"));
        assert!(read(Some("not a url")).unwrap_err().names("DATABASE_URL"));
        let missing = read(None).unwrap_err();
        assert!(
            missing.lines()[0].contains("DATABASE_URL: is required"),
            "{:?}",
            missing.lines()
        );
    }

    #[test]
    fn debug_hides_the_password() {
        let config = read(Some("postgres://u:hunter2@localhost/db")).unwrap();
        assert!(!format!("{config:?}").contains("hunter2"));
    }
}
