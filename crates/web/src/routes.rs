//! Routes are declared once: each feature module lists its routes with a [`Routes`] builder — method, path,
//! access rule, handler — and the router, the policy the middleware applies, the OpenAPI document's access
//! fields and the tests all read that one declaration. There is no other way to add a route: [`Routes`] keeps
//! its router private, so a route without an access rule cannot exist.

use std::collections::HashMap;

use axum::handler::Handler;
use axum::routing::{MethodFilter, MethodRouter};
use axum::Router;

use crate::policy::Access;
use crate::AppState;

/// Which face of the server a route belongs to: errors are problem+json on the API, pages in the browser.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// The JSON API under /api/v1, described by the OpenAPI document.
    Api,
    /// A page (HTML for people), or an asset the pages load.
    Page,
    /// Anything else: health, metrics, published keys, the API browser, Open311.
    Other,
}

/// One declared route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Declared {
    pub method: &'static str,
    /// The path in axum's syntax (`/api/v1/cases/{case_no}`).
    pub path: &'static str,
    pub access: Access,
    pub surface: Surface,
}

/// A set of declared routes and the router they build.
pub struct Routes {
    router: Router<AppState>,
    declared: Vec<Declared>,
    surface: Surface,
}

impl Routes {
    /// Routes of the JSON API.
    pub fn api() -> Routes {
        Routes::of(Surface::Api)
    }

    /// Page routes.
    pub fn pages() -> Routes {
        Routes::of(Surface::Page)
    }

    /// Routes that are neither API nor pages.
    pub fn other() -> Routes {
        Routes::of(Surface::Other)
    }

    fn of(surface: Surface) -> Routes {
        Routes { router: Router::new(), declared: Vec::new(), surface }
    }

    pub fn get<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.on("GET", path, access, axum::routing::get(handler))
    }

    pub fn post<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.on("POST", path, access, axum::routing::post(handler))
    }

    pub fn put<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.on("PUT", path, access, axum::routing::put(handler))
    }

    pub fn delete<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.on("DELETE", path, access, axum::routing::delete(handler))
    }

    pub fn patch<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.on("PATCH", path, access, axum::routing::patch(handler))
    }

    /// A HEAD answered by its own handler (not GET's without the body): tus answers an upload's offset this way.
    pub fn head<H: Handler<T, AppState>, T: 'static>(self, path: &'static str, access: Access, handler: H) -> Routes {
        self.on("HEAD", path, access, axum::routing::head(handler))
    }

    pub fn options<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        access: Access,
        handler: H,
    ) -> Routes {
        self.on("OPTIONS", path, access, axum::routing::options(handler))
    }

    /// A route whose method router carries its own layers (e.g. a larger body limit). `method` must be the one
    /// method the method router answers.
    pub fn on(
        mut self,
        method: &'static str,
        path: &'static str,
        access: Access,
        handler: MethodRouter<AppState>,
    ) -> Routes {
        debug_assert!(method_filter(method).is_some(), "{method} {path}: unknown method");
        self.router = self.router.route(path, handler);
        self.declared.push(Declared { method, path, access, surface: self.surface });
        self
    }

    /// Add another module's routes (each keeps its own surface).
    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.declared.extend(other.declared);
        self
    }

    pub fn declared(&self) -> &[Declared] {
        &self.declared
    }

    pub(crate) fn into_parts(self) -> (Router<AppState>, Policy) {
        (self.router, Policy::new(self.declared))
    }
}

fn method_filter(method: &str) -> Option<MethodFilter> {
    match method {
        "GET" => Some(MethodFilter::GET),
        "POST" => Some(MethodFilter::POST),
        "PUT" => Some(MethodFilter::PUT),
        "DELETE" => Some(MethodFilter::DELETE),
        "PATCH" => Some(MethodFilter::PATCH),
        "HEAD" => Some(MethodFilter::HEAD),
        "OPTIONS" => Some(MethodFilter::OPTIONS),
        _ => None,
    }
}

/// The rules of every declared route, by method and path pattern: what the middleware consults.
#[derive(Debug, Default)]
pub struct Policy {
    rules: HashMap<(&'static str, &'static str), Declared>,
    declared: Vec<Declared>,
}

impl Policy {
    fn new(declared: Vec<Declared>) -> Policy {
        let rules = declared.iter().map(|d| ((d.method, d.path), *d)).collect();
        Policy { rules, declared }
    }

    /// The declaration of a request's route. HEAD follows GET (the router answers HEAD with the GET handler)
    /// unless HEAD is declared on its own. A route that is not declared has no rule: it is refused (deny by
    /// default).
    pub fn rule(&self, method: &str, pattern: &str) -> Option<Declared> {
        if let Some(d) = self.rules.get(&(method, pattern)) {
            return Some(*d);
        }
        let method = if method == "HEAD" { "GET" } else { method };
        self.rules.get(&(method, pattern)).copied()
    }

    pub fn declared(&self) -> &[Declared] {
        &self.declared
    }
}
