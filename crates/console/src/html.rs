//! The pages' frame and the pieces they share, rendered on the server (maud: templates checked
//! when the console is compiled). No JavaScript: every action is a form, every page reads
//! without scripts, and the overview refreshes itself with a `<meta http-equiv="refresh">`.

use actix_web::http::StatusCode;
use maud::{DOCTYPE, Markup, PreEscaped, html};

/// Where a page sits in the navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Connections,
    Events,
    None,
}

/// A page for a logged-in operator: the navigation, the logout button and `content`. `csrf`
/// goes in `<meta name="csrf-token">` and in every form.
pub struct Page<'a> {
    title: &'a str,
    section: Section,
    csrf: String,
    /// Refresh the page every so many seconds (the overview).
    refresh: Option<u32>,
}

impl<'a> Page<'a> {
    /// A page of `section` for the session's operator (its CSRF token in every form).
    pub fn new(session: &actix_session::Session, title: &'a str, section: Section) -> Self {
        Self {
            title,
            section,
            csrf: crate::auth::csrf_token(session),
            refresh: None,
        }
    }

    /// The page reloads itself every `seconds`.
    pub fn refresh_every(mut self, seconds: Option<u32>) -> Self {
        self.refresh = seconds;
        self
    }

    /// The session's CSRF token, for the page's own forms.
    pub fn csrf(&self) -> &str {
        &self.csrf
    }

    pub fn render(&self, content: Markup) -> Markup {
        let nav = [
            (Section::Overview, "/", "Overview"),
            (Section::Connections, "/connections", "Connections"),
            (Section::Events, "/events", "Events"),
        ];
        html! {
            (DOCTYPE)
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width, initial-scale=1";
                    meta name="csrf-token" content=(&self.csrf);
                    @if let Some(seconds) = self.refresh {
                        meta http-equiv="refresh" content=(seconds);
                    }
                    title { (self.title) " · suiteflow" }
                    link rel="stylesheet" href="/static/console.css";
                }
                body {
                    a.skip href="#main" { "Skip to the content" }
                    header {
                        span.brand { "suiteflow" }
                        nav aria-label="Sections" {
                            ul {
                                @for (section, href, label) in nav {
                                    li {
                                        @if section == self.section {
                                            a href=(href) aria-current="page" { (label) }
                                        } @else {
                                            a href=(href) { (label) }
                                        }
                                    }
                                }
                            }
                        }
                        form method="post" action="/logout" {
                            (csrf_field(&self.csrf))
                            button type="submit" { "Log out" }
                        }
                    }
                    main id="main" {
                        h1 { (self.title) }
                        (content)
                    }
                }
            }
        }
    }
}

/// The hidden field every form carries.
pub fn csrf_field(csrf: &str) -> Markup {
    html! { input type="hidden" name="csrf" value=(csrf); }
}

/// A form with one button that posts to `action` (pause, resume, replay, …).
pub fn action_button(action: &str, csrf: &str, label: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (csrf_field(csrf))
            button type="submit" { (label) }
        }
    }
}

/// A status as a badge (`ok`, `failed`, `dead_letter`, …).
pub fn badge(status: &str) -> Markup {
    html! { span class={ "badge " (status) } { (status.replace('_', " ")) } }
}

/// A definition list of (term, value) pairs; an empty value shows as a dash.
pub fn facts(rows: &[(&str, Option<String>)]) -> Markup {
    html! {
        dl.facts {
            @for (term, value) in rows {
                dt { (term) }
                dd { (value.clone().unwrap_or_else(|| "—".into())) }
            }
        }
    }
}

/// JSON, pretty-printed, in a `<pre>` (escaped).
pub fn json_block(label: &str, value: &serde_json::Value) -> Markup {
    let text = serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string());
    html! {
        figure {
            figcaption { (label) }
            pre { code { (text) } }
        }
    }
}

/// A message above the content (the result of an action).
pub fn notice(text: &str) -> Markup {
    html! { p.notice role="status" { (text) } }
}

/// The login page: the password and the form's CSRF token, and what went wrong last time.
pub fn login_page(csrf: &str, problem: Option<&str>) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="csrf-token" content=(csrf);
                title { "Log in · suiteflow" }
                link rel="stylesheet" href="/static/console.css";
            }
            body.login {
                main id="main" {
                    h1 { "suiteflow console" }
                    @if let Some(problem) = problem {
                        p.problem role="alert" { (problem) }
                    }
                    form method="post" action="/login" {
                        (csrf_field(csrf))
                        label for="password" { "Password" }
                        input id="password" name="password" type="password" autocomplete="current-password" required autofocus;
                        button type="submit" { "Log in" }
                    }
                }
            }
        }
    }
}

/// A page for an error, with a way back.
pub fn error_page(status: StatusCode, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (status.as_u16()) " · suiteflow" }
                link rel="stylesheet" href="/static/console.css";
            }
            body {
                main id="main" {
                    h1 { (status.canonical_reason().unwrap_or("Error")) }
                    p.problem role="alert" { (message) }
                    p { a href="/" { "Back to the overview" } }
                }
            }
        }
    }
}

/// Raw SVG made by the console itself (numbers and fixed text only).
pub fn svg(markup: String) -> Markup {
    PreEscaped(markup)
}
