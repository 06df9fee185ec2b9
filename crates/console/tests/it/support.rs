//! A console over a test database and both stand-ins, and a client that keeps its session
//! cookie as a browser does.

use std::time::Duration;

use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::{Method, Response, StatusCode};
use serde_json::Value;
use suiteflow_console::{Console, ConsoleSettings};
use suiteflow_settings::{Reader, Source};
use suiteflow_test_support::fixtures::{
    ConnectionSpec, Products, ProductsWorld, stand_in_settings,
};
use suiteflow_test_support::webflow::WebflowConfig;

/// The operators' password in these tests.
pub const PASSWORD: &str = "correct horse battery staple";

pub struct Site {
    pub world: ProductsWorld,
    pub base: String,
    handle: actix_web::dev::ServerHandle,
}

impl Site {
    pub async fn start() -> Self {
        Self::start_with(&[]).await
    }

    /// With `extra` settings (`APP_URL`, …).
    pub async fn start_with(extra: &[(&str, &str)]) -> Self {
        let world = ProductsWorld::start(
            WebflowConfig {
                rate_limit: 10_000,
                ..WebflowConfig::default()
            },
            ConnectionSpec {
                rate_limit_per_min: 1000,
                ..ConnectionSpec::default()
            },
            Products::mapping(),
        )
        .await;
        let mut env = stand_in_settings(world.db.url(), &world.wf, &world.ss);
        env.push(("CONSOLE_ADDR".into(), "127.0.0.1:0".into()));
        env.push((
            "DASHBOARD_PASSWORD_HASH".into(),
            bcrypt::hash(PASSWORD, 4).unwrap(),
        ));
        env.extend(
            extra
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string())),
        );
        let source = Source::new(None, env).unwrap();
        let mut r = Reader::new(&source);
        let settings = ConsoleSettings::read(&mut r);
        let settings = r.finish(|| settings).unwrap();
        let console = Console::build(settings).unwrap();
        let base = format!("http://{}", console.addr());
        let handle = console.handle();
        tokio::spawn(console.run_until_stopped());
        Self {
            world,
            base,
            handle,
        }
    }

    /// A client with no session yet.
    pub fn client(&self) -> Client {
        Client {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            base: self.base.clone(),
            cookie: None,
        }
    }

    /// A client logged in.
    pub async fn operator(&self) -> Client {
        let mut client = self.client();
        let response = client.login(PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        client
    }

    pub async fn store(&self) -> suiteflow_store::Store {
        let source = Source::new(
            None,
            vec![("DATABASE_URL".to_string(), self.world.db.url().to_string())],
        )
        .unwrap();
        let mut r = Reader::new(&source);
        let config = suiteflow_store::DatabaseConfig::read(&mut r, "console-test");
        let config = r.finish(|| config).unwrap();
        suiteflow_store::Store::connect(&config).await.unwrap()
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// A client that keeps the session cookie.
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
}

impl Client {
    pub async fn request(
        &mut self,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        csrf_header: Option<&str>,
    ) -> Response {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        if let Some(token) = csrf_header {
            request = request.header("x-csrf-token", token);
        }
        if let Some(form) = form {
            let body = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(form.iter())
                .finish();
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(body);
        }
        let response = request.send().await.unwrap();
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap().to_string();
            self.cookie = if pair.ends_with('=') {
                None
            } else {
                Some(pair)
            };
        }
        response
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.request(Method::GET, path, None, None).await
    }

    pub async fn text(&mut self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        (response.status(), response.text().await.unwrap())
    }

    pub async fn json(&mut self, path: &str) -> (StatusCode, Value) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.json().await.unwrap())
    }

    pub async fn post_form(&mut self, path: &str, form: &[(&str, &str)]) -> Response {
        self.request(Method::POST, path, Some(form), None).await
    }

    /// The CSRF token the pages carry (`<meta name="csrf-token">`).
    pub async fn page_csrf(&mut self, path: &str) -> String {
        let (_, body) = self.text(path).await;
        meta_csrf(&body)
    }

    /// The session's CSRF token from the API.
    pub async fn csrf(&mut self) -> String {
        let (status, body) = self.json("/api/v1/session").await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["csrf"].as_str().unwrap().to_string()
    }

    /// Logs in with `password` through the form.
    pub async fn login(&mut self, password: &str) -> Response {
        let csrf = self.page_csrf("/login").await;
        self.post_form("/login", &[("password", password), ("csrf", &csrf)])
            .await
    }

    /// A POST with the session's CSRF token as the form field.
    pub async fn post_action(&mut self, path: &str) -> Response {
        let csrf = self.csrf().await;
        self.post_form(path, &[("csrf", &csrf)]).await
    }
}

pub fn meta_csrf(html: &str) -> String {
    let start = html
        .find(r#"name="csrf-token" content=""#)
        .expect("a csrf meta tag")
        + r#"name="csrf-token" content=""#.len();
    html[start..].split('"').next().unwrap().to_string()
}

pub fn location(response: &Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}
