//! The default name of a decorated method: the function's module path, its `Self` type
//! and its name (`app::client::Payments::fetch`), for breaker names, events, metric labels
//! and monitor records.
//!
//! A `static` in a method cannot name `Self`, and `core::any::type_name` is not `const`,
//! so the name is made at run time, once per call site, on the first use's cold path:
//! the generated code hands over a closure calling `type_name::<Self>()`, and a site that
//! has its name answers with one load afterwards.
//!
//! Generic arguments are dropped (`Repo<u32>` names as `Repo`): a `static` in a generic
//! function is one for every instantiation, so every `Self` of a generic impl shares one
//! call site, and its name must not depend on which instantiation ran first. For the same
//! reason a trait's default method names the first implementor that calls it; give such
//! a method `name = "..."` to choose.

use std::sync::OnceLock;

/// `path` (`module::function`, what `concat!(module_path!(), "::", name)` gives) with
/// the short name of `self_type` (as `core::any::type_name` writes it) put before the
/// function: `app::client::Payments::fetch`. Made once per call site, so kept for good.
///
/// ```
/// use resilience::__private::method_name;
///
/// assert_eq!(method_name("app::client::fetch", "app::model::Payments"), "app::client::Payments::fetch");
/// assert_eq!(method_name("app::get", "app::Repo<alloc::string::String>"), "app::Repo::get");
/// assert_eq!(method_name("app::len", "&[u8]"), "app::[u8]::len");
/// ```
pub fn method_name(path: &'static str, self_type: &'static str) -> &'static str {
    let (module, function) = match path.rfind("::") {
        Some(at) => (&path[..at], &path[at + 2..]),
        None => ("", path),
    };
    let short = short_type(self_type);
    let name = if module.is_empty() {
        format!("{short}::{function}")
    } else {
        format!("{module}::{short}::{function}")
    };
    Box::leak(name.into_boxed_str())
}

/// A type's name without its path, generic arguments, references or `dyn`.
fn short_type(self_type: &str) -> &str {
    let without_generics = match self_type.find('<') {
        Some(at) => &self_type[..at],
        None => self_type,
    };
    let trimmed = without_generics
        .trim_start_matches('&')
        .trim_start_matches("mut ")
        .trim_start_matches("dyn ");
    // A path's last segment; a slice, array or tuple type is kept whole.
    if trimmed.starts_with(['[', '(']) {
        return trimmed;
    }
    match trimmed.rfind("::") {
        Some(at) => &trimmed[at + 2..],
        None => trimmed,
    }
}

/// One use of a method's default name in its generated code (an error path's record or
/// event), resolved on first use.
///
/// ```
/// use resilience::__private::MethodName;
///
/// struct Payments;
/// static NAME: MethodName = MethodName::new("app::fetch");
/// assert_eq!(NAME.get(|| std::any::type_name::<Payments>()), "app::Payments::fetch");
/// ```
pub struct MethodName {
    path: &'static str,
    name: OnceLock<&'static str>,
}

impl MethodName {
    /// The name of the method at `path` (`module::function`), its type still to come.
    pub const fn new(path: &'static str) -> Self {
        MethodName {
            path,
            name: OnceLock::new(),
        }
    }

    /// The name, made with `self_type` (a closure calling `type_name::<Self>()`) on
    /// first use; one load afterwards.
    ///
    /// ```
    /// static NAME: resilience::__private::MethodName = resilience::__private::MethodName::new("m::f");
    /// assert_eq!(NAME.get(|| "m::T"), "m::T::f");
    /// assert_eq!(NAME.get(|| "m::Other"), "m::T::f"); // made once
    /// ```
    #[inline]
    pub fn get(&self, self_type: fn() -> &'static str) -> &'static str {
        match self.name.get() {
            Some(name) => name,
            None => self.resolve(self_type),
        }
    }

    #[cold]
    #[inline(never)]
    fn resolve(&self, self_type: fn() -> &'static str) -> &'static str {
        self.name
            .get_or_init(|| method_name(self.path, self_type()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_drop_paths_generics_and_references() {
        assert_eq!(short_type("app::client::Payments"), "Payments");
        assert_eq!(short_type("app::Repo<app::Item, u8>"), "Repo");
        assert_eq!(short_type("&mut app::Repo<u8>"), "Repo");
        assert_eq!(short_type("dyn app::Source"), "Source");
        assert_eq!(short_type("(u8, u16)"), "(u8, u16)");
        assert_eq!(short_type("Local"), "Local");
        assert_eq!(method_name("f", "T"), "T::f");
    }
}
