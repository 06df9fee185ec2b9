//! The console in a real browser: Debian's `chromium`, headless, driven through `chromedriver`
//! on loopback. An operator logs in, sees the overview, opens a connection, replays a
//! dead-lettered event and sees its status change, then logs out; every step is done from the
//! keyboard, and no page needs JavaScript.
//!
//! With `SUITEFLOW_SCREENSHOTS=<dir>` the main pages are saved there as PNG (`just screenshots`).

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::key::Key;
use fantoccini::{Client as Browser, ClientBuilder, Locator};
use serde_json::json;

use crate::api::{enqueue, finish};
use crate::support::*;

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// `chromedriver` on a free loopback port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    /// `None` when chromium is not installed and the browser is not required; with
    /// `SUITEFLOW_REQUIRE_BROWSER=1` (set by CI) its absence fails the test instead.
    fn start() -> Option<Self> {
        let installed =
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists();
        if !installed {
            assert!(
                std::env::var_os("SUITEFLOW_REQUIRE_BROWSER").is_none(),
                "the browser test needs {CHROMIUM} and {CHROMEDRIVER} (apt install chromium chromium-driver)"
            );
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        Some(Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    async fn connect(&self) -> Browser {
        let profile = std::env::temp_dir().join(format!("suiteflow-chromium-{}", self.child.id()));
        let options = json!({
            "binary": CHROMIUM,
            "args": [
                "--headless=new",
                // Root in a container has no user namespace for chromium's sandbox.
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                // Loopback only: no update checks, sync or other calls home.
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--no-first-run",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        });
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("goog:chromeOptions".into(), options);
        let _ = rustls::crypto::ring::default_provider().install_default();
        // chromedriver takes a moment to listen.
        let mut last = None;
        for _ in 0..100 {
            match ClientBuilder::rustls()
                .unwrap()
                .capabilities(capabilities.clone())
                .connect(&self.url)
                .await
            {
                Ok(browser) => return browser,
                Err(e) => last = Some(e),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver at {}: {last:?}", self.url);
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Saves the page as `name` when screenshots are asked for.
async fn screenshot(browser: &Browser, name: &str) {
    let Some(dir) = std::env::var_os("SUITEFLOW_SCREENSHOTS") else {
        return;
    };
    let png = browser.screenshot().await.unwrap();
    let path = PathBuf::from(dir).join(name);
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// The page's `<h1>`.
async fn heading(browser: &Browser) -> String {
    browser
        .find(Locator::Css("h1"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// Focuses the element and presses Enter, as a keyboard user does.
async fn press(browser: &Browser, css: &str) {
    let element = browser
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"));
    element.send_keys(&Key::Enter).await.unwrap();
}

/// Waits until the page's `<h1>` reads `text`.
async fn wait_for_heading(browser: &Browser, text: &str) {
    for _ in 0..100 {
        if let Ok(h1) = browser.find(Locator::Css("h1")).await
            && h1.text().await.is_ok_and(|t| t == text)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the page never became {text:?}; it is {:?}",
        heading(browser).await
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_logs_in_replays_a_dead_letter_and_logs_out_in_a_browser() {
    let Some(driver) = Driver::start() else {
        // Skipped: chromium and chromedriver are not installed here (CI installs them and sets
        // SUITEFLOW_REQUIRE_BROWSER, so there this test always runs).
        eprintln!("skipped: {CHROMIUM} or {CHROMEDRIVER} is missing");
        return;
    };
    let site = Site::start().await;
    let ids = enqueue(&site, "rec-", 12).await;
    finish(&site, &ids[..1]).await;
    enqueue(&site, "new-", 3).await;
    let dead = ids[0];
    let browser = driver.connect().await;
    browser.set_window_size(1280, 900).await.unwrap();

    // Logging in: the password typed, Enter pressed.
    browser.goto(&format!("{}/", site.base)).await.unwrap();
    wait_for_heading(&browser, "suiteflow console").await;
    let password = browser.find(Locator::Css("#password")).await.unwrap();
    password.send_keys(PASSWORD).await.unwrap();
    password.send_keys(&Key::Enter).await.unwrap();
    wait_for_heading(&browser, "Overview").await;
    let body = browser.source().await.unwrap();
    assert!(body.contains("The last hour: 12 events finished"), "{body}");
    screenshot(&browser, "console-overview.png").await;

    // The connection, from the menu.
    press(&browser, r#"nav a[href="/connections"]"#).await;
    wait_for_heading(&browser, "Connections").await;
    let name = browser
        .find(Locator::Css("tbody a"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    press(&browser, "tbody a").await;
    wait_for_heading(&browser, &name).await;
    screenshot(&browser, "console-connection.png").await;

    // Its dead letter, found in the events list filtered by status.
    press(&browser, r#"nav a[href="/events"]"#).await;
    wait_for_heading(&browser, "Events").await;
    let status = browser.find(Locator::Css("#status")).await.unwrap();
    status.select_by_value("dead_letter").await.unwrap();
    press(&browser, r#"form.filters button[type="submit"]"#).await;
    for _ in 0..100 {
        if browser
            .current_url()
            .await
            .unwrap()
            .as_str()
            .contains("status=dead_letter")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    screenshot(&browser, "console-events.png").await;
    press(&browser, &format!(r#"a[href="/events/{}"]"#, dead.0)).await;
    wait_for_heading(&browser, &format!("Event {}", event_seq(&site, dead).await)).await;
    let badge = browser.find(Locator::Css("main p .badge")).await.unwrap();
    assert_eq!(badge.text().await.unwrap(), "dead letter");

    press(&browser, r#"form[action$="/replay"] button"#).await;
    for _ in 0..100 {
        if browser.source().await.unwrap().contains("is queued again") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let badge = browser.find(Locator::Css("main p .badge")).await.unwrap();
    assert_eq!(badge.text().await.unwrap(), "queued");

    // Logging out ends the session: the overview asks for the password again.
    press(&browser, r#"form[action="/logout"] button"#).await;
    wait_for_heading(&browser, "suiteflow console").await;
    browser.goto(&format!("{}/", site.base)).await.unwrap();
    wait_for_heading(&browser, "suiteflow console").await;
    browser.close().await.unwrap();
}

async fn event_seq(site: &Site, id: suiteflow_store::EventId) -> i64 {
    let store = site.store().await;
    let mut conn = store.get().await.unwrap();
    suiteflow_store::queue::get_event(&mut conn, id)
        .await
        .unwrap()
        .unwrap()
        .seq
}
