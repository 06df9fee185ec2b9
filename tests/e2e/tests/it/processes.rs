//! The real `ingress` and `worker` binaries, started against a [`Pipeline`]'s database and
//! stand-ins, with their standard error captured to files.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use suiteflow_test_support::process::{binary, free_port, terminate};

use crate::support::Pipeline;

pub struct Binaries {
    ingress: Child,
    worker: Child,
    /// `http://127.0.0.1:<port>` of the ingress.
    pub base: String,
    dir: tempfile::TempDir,
}

impl Binaries {
    /// Starts both binaries with the pipeline's settings plus `extra`, and waits until the
    /// ingress is ready.
    pub async fn start(p: &Pipeline, extra: &[(&str, String)]) -> Self {
        let worker_bin = binary("worker");
        let ingress_bin = binary("ingress");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut env = p.settings();
        env.extend([
            ("INGRESS_ADDR".into(), format!("127.0.0.1:{port}")),
            (
                "WORKER_METRICS_ADDR".into(),
                format!("127.0.0.1:{}", free_port()),
            ),
        ]);
        env.extend(extra.iter().map(|(k, v)| ((*k).to_string(), v.clone())));
        let ingress = spawn(&ingress_bin, &env, &dir.path().join("ingress.log"));
        let worker = spawn(&worker_bin, &env, &dir.path().join("worker.log"));
        let binaries = Self {
            ingress,
            worker,
            base: format!("http://127.0.0.1:{port}"),
            dir,
        };
        let http = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(20);
        while !http
            .get(format!("{}/readyz", binaries.base))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                Instant::now() < deadline,
                "ingress did not start:\n{}",
                binaries.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        binaries
    }

    /// Posts `body` to the pipeline connection's push route with `signature` as
    /// `x-smartsuite-signature`.
    pub async fn push(&self, p: &Pipeline, body: &str, signature: &str) -> reqwest::Response {
        reqwest::Client::new()
            .post(format!("{}/api/hooks/{}", self.base, p.connection.0))
            .header("x-smartsuite-signature", signature)
            .body(body.to_string())
            .send()
            .await
            .unwrap()
    }

    /// Waits (at most 20 s) until the worker has written an item to the Webflow stand-in.
    pub async fn wait_for_an_item(&self, p: &Pipeline) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while p.items().is_empty() {
            assert!(
                Instant::now() < deadline,
                "the worker did not write the item:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM to both, waiting for each to exit (SIGKILL after 15 s).
    pub fn stop(&mut self) {
        stop(&mut self.ingress);
        stop(&mut self.worker);
    }

    /// What both wrote to standard error so far.
    pub fn logs(&self) -> String {
        let read = |name: &str| std::fs::read_to_string(self.dir.path().join(name)).unwrap();
        read("ingress.log") + &read("worker.log")
    }
}

impl Drop for Binaries {
    fn drop(&mut self) {
        let _ = self.ingress.kill();
        let _ = self.worker.kill();
    }
}

fn spawn(path: &std::path::Path, env: &[(String, String)], log: &std::path::Path) -> Child {
    let file = std::fs::File::create(log).unwrap();
    Command::new(path)
        .env_clear()
        .envs(env.iter().cloned())
        .stdout(Stdio::null())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", path.display()))
}

fn stop(child: &mut Child) {
    terminate(child, Duration::from_secs(15));
}
