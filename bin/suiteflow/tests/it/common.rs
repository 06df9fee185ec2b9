//! Runs the real `suiteflow` binary against a test database and the SmartSuite and Webflow
//! stand-ins.

use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use suiteflow_test_support::TestDb;
use suiteflow_test_support::fixtures::{Products, stand_in_settings};
use suiteflow_test_support::smartsuite::SmartSuiteStandIn;
use suiteflow_test_support::webflow::WebflowStandIn;
use tokio::io::AsyncWriteExt as _;

pub const BIN: &str = env!("CARGO_BIN_EXE_suiteflow");
pub const KEY: &str = "1111111111111111111111111111111111111111111111111111111111111111";
pub const OTHER_KEY: &str = "2222222222222222222222222222222222222222222222222222222222222222";
pub const APP_URL: &str = "https://sync.example.com";

/// What a run of the binary left behind.
#[derive(Debug)]
pub struct Run {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }

    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(code),
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn ok(&self) -> Value {
        self.assert_code(0);
        self.json()
    }

    /// Everything printed.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// A database, the two stand-ins with a products table and collection, and the variables that
/// point the binary at them.
pub struct Env {
    pub db: TestDb,
    pub smartsuite: SmartSuiteStandIn,
    pub webflow: WebflowStandIn,
    pub solution: String,
    pub table: String,
    pub collection: String,
    pub vars: Vec<(String, String)>,
    pub dir: tempfile::TempDir,
}

impl Env {
    pub async fn new() -> Self {
        let db = TestDb::new().await;
        let smartsuite = SmartSuiteStandIn::start().await.unwrap();
        smartsuite.set_rate_limit(10_000, Duration::from_millis(10));
        smartsuite.set_auto_ping(false);
        let webflow = WebflowStandIn::start().await.unwrap();
        webflow.set_rate_limit(10_000, Duration::from_secs(60));
        let Products {
            collection,
            solution,
            table,
        } = Products::add(&webflow, &smartsuite);
        // The CLI's own key, so that tests can rotate it.
        let mut vars = stand_in_settings(db.url(), &webflow, &smartsuite);
        vars.retain(|(name, _)| name != "DATA_ENCRYPTION_KEY");
        vars.extend([
            ("DATA_ENCRYPTION_KEY".to_string(), KEY.to_string()),
            ("APP_URL".to_string(), APP_URL.to_string()),
            ("LOG_LEVEL".to_string(), "warn".to_string()),
        ]);
        Self {
            db,
            smartsuite,
            webflow,
            solution,
            table,
            collection,
            vars,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Runs the binary with these arguments and extra variables (`None` removes one).
    pub async fn run_with(
        &self,
        args: &[&str],
        extra: &[(&str, Option<&str>)],
        stdin: Option<&str>,
    ) -> Run {
        let mut command = tokio::process::Command::new(BIN);
        command.args(args).env_clear().current_dir(self.dir.path());
        for (k, v) in &self.vars {
            command.env(k, v);
        }
        for (k, v) in extra {
            match v {
                Some(v) => command.env(k, v),
                None => command.env_remove(k),
            };
        }
        command.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = command.spawn().unwrap();
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).await.unwrap();
            drop(pipe);
        }
        let output = tokio::time::timeout(Duration::from_secs(120), child.wait_with_output())
            .await
            .expect("suiteflow did not finish within 120 s")
            .unwrap();
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    pub async fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, &[], None).await
    }

    /// The credentials the stand-ins accept.
    pub fn credentials(&self) -> Vec<(&'static str, String)> {
        vec![
            ("SMARTSUITE_API_KEY", self.smartsuite.api_key()),
            ("WEBFLOW_TOKEN", self.webflow.token()),
        ]
    }

    /// `connection create --json` with working credentials; returns its JSON.
    pub async fn create_connection(&self, name: &str, scheme: &str) -> Value {
        self.create_connection_with(name, scheme, &[]).await.ok()
    }

    pub async fn create_connection_with(
        &self,
        name: &str,
        scheme: &str,
        extra: &[(&str, Option<&str>)],
    ) -> Run {
        let credentials = self.credentials();
        let mut vars: Vec<(&str, Option<&str>)> = credentials
            .iter()
            .map(|(k, v)| (*k, Some(v.as_str())))
            .collect();
        vars.extend_from_slice(extra);
        let site = self.webflow.site_id();
        self.run_with(
            &[
                "connection",
                "create",
                "--json",
                "--name",
                name,
                "--smartsuite-account",
                &self.smartsuite.account_id(),
                "--smartsuite-table",
                &self.table,
                "--webflow-site",
                &site,
                "--webflow-collection",
                &self.collection,
                "--scheme",
                scheme,
            ],
            &vars,
            None,
        )
        .await
    }

    /// Writes a file in the working directory and returns its path.
    pub fn write(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    }

    /// A mapping that fits the products table and collection.
    pub fn good_mapping(&self) -> String {
        self.write(
            "mapping.json",
            r#"{"fieldMap": {"name": {"type": "direct", "source": "title"},
                             "price": {"type": "direct", "source": "price", "transform": "round", "args": [1]}},
                "slugTemplate": "{{title}}",
                "statusBehavior": {"source": "status", "draft": ["backlog"]}}"#,
        )
    }

    pub async fn store(&self) -> suiteflow_store::AsyncPgConnection {
        self.db.connect().await
    }
}

pub fn id_of(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}
