//! The ready-made error types of the six tiers, and [`Error`], which holds any of them.
//!
//! Each type derives [`MarcusError`](crate::MarcusError) like a user's type would. It
//! carries a message (its `Display` text), a boxed [`ErrorContext`](crate::ErrorContext)
//! that the attributes fill, an optional source error (shown as `caused_by` in reports),
//! and the facts of its kind, set with `with_…` builders and read with getters of the
//! same name without the prefix. Its code is its name in SCREAMING_SNAKE_CASE followed by
//! `_ERROR`.
//!
//! | tier | types |
//! |---|---|
//! | transient | [`NetworkTimeout`], [`ServiceUnavailable`], [`RateLimit`], [`TemporaryResource`] |
//! | configuration | [`MissingCredentials`], [`InvalidConfiguration`], [`MissingDependency`], [`Environment`] |
//! | business logic | [`TaskAssignment`], [`WorkflowViolation`], [`Validation`], [`StateConflict`], [`TaskValidation`], [`ProjectRootNotFound`] |
//! | integration | [`KanbanIntegration`], [`AiProvider`], [`Authentication`], [`ExternalService`] |
//! | security | [`Authorization`], [`WorkspaceSecurity`], [`Permission`] |
//! | system | [`ResourceExhaustion`], [`CorruptedState`], [`Database`], [`CriticalDependency`] |
//!
//! ```
//! use resilience::errors::KanbanIntegration;
//! use resilience::{Category, ErrorContext, MarcusError};
//!
//! let err = KanbanIntegration::new("failed to create the task")
//!     .with_board("Development")
//!     .with_context(ErrorContext::for_operation("create_task"))
//!     .with_source(std::io::Error::from(std::io::ErrorKind::TimedOut));
//! assert_eq!(err.code(), "KANBAN_INTEGRATION_ERROR");
//! assert_eq!(err.category(), Category::Integration);
//! assert_eq!(err.board(), Some("Development"));
//! assert_eq!(err.report().caused_by.len(), 1);
//! ```

/// The source error a ready-made type may carry.
type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Declares one ready-made type: the struct with its common fields (message, boxed
/// context, optional source) and its own optional facts, `new`, the common builders, and
/// a builder and getter per fact. Facts are `str(String)` (read as `&str`),
/// `path(PathBuf)` (read as `&Path`), `copy(T)` (read by value) or `hint(Duration)` (the
/// `retry_after` the derive reads: a builder only, since a getter would shadow
/// `MarcusError::retry_after`). Each fact's type is written out (not derived by the
/// macro) because the derive reads the field types as written.
macro_rules! ready_made {
    (
        $(#[$attr:meta])*
        $name:ident: $code:tt marcus($($marcus:tt)*) {
            $( $field:ident / $setter:ident : $kind:ident($ty:tt) = $sample:expr => $desc:literal ),* $(,)?
        }
    ) => {
        $(#[$attr])*
        #[derive(::core::fmt::Debug, ::thiserror::Error, crate::MarcusError)]
        #[error("{message}")]
        #[marcus(code = $code, $($marcus)*)]
        pub struct $name {
            message: ::std::string::String,
            #[context]
            context: ::std::boxed::Box<crate::ErrorContext>,
            #[source]
            source: ::core::option::Option<crate::errors::BoxError>,
            $( $field: ::core::option::Option<$ty>, )*
        }

        impl $name {
            #[doc = concat!("A `", stringify!($name), "` with this message (its `Display` text) and a fresh context.")]
            ///
            /// ```
            #[doc = concat!("use resilience::{errors::", stringify!($name), ", MarcusError};")]
            ///
            #[doc = concat!("let err = ", stringify!($name), "::new(\"it failed\");")]
            /// assert_eq!(err.to_string(), "it failed");
            #[doc = concat!("assert_eq!(err.code(), \"", $code, "\");")]
            /// assert!(err.context().is_some());
            /// ```
            pub fn new(message: impl ::core::convert::Into<::std::string::String>) -> Self {
                $name {
                    message: message.into(),
                    context: ::std::boxed::Box::new(crate::ErrorContext::new()),
                    source: ::core::option::Option::None,
                    $( $field: ::core::option::Option::None, )*
                }
            }

            /// Replaces the context, for an error built with a context already in hand.
            ///
            /// ```
            #[doc = concat!("use resilience::{errors::", stringify!($name), ", ErrorContext, MarcusError};")]
            ///
            #[doc = concat!("let err = ", stringify!($name), "::new(\"it failed\")")]
            ///     .with_context(ErrorContext::for_operation("sync_board"));
            /// assert_eq!(err.context().unwrap().operation, "sync_board");
            /// ```
            pub fn with_context(mut self, context: crate::ErrorContext) -> Self {
                *self.context = context;
                self
            }

            /// Records the error that caused this one; reports list it under `caused_by`.
            ///
            /// ```
            #[doc = concat!("use resilience::{errors::", stringify!($name), ", MarcusError};")]
            /// use std::error::Error as _;
            ///
            #[doc = concat!("let err = ", stringify!($name), "::new(\"it failed\")")]
            ///     .with_source(std::io::Error::other("disk on fire"));
            /// assert_eq!(err.source().unwrap().to_string(), "disk on fire");
            /// assert_eq!(err.report().caused_by, ["disk on fire"]);
            /// ```
            pub fn with_source(mut self, source: impl ::core::convert::Into<crate::errors::BoxError>) -> Self {
                self.source = ::core::option::Option::Some(source.into());
                self
            }

            /// The message given to [`new`](Self::new).
            ///
            /// ```
            #[doc = concat!("let err = resilience::errors::", stringify!($name), "::new(\"it failed\");")]
            /// assert_eq!(err.message(), "it failed");
            /// ```
            pub fn message(&self) -> &str {
                &self.message
            }
        }

        $( ready_made!(@facts $name $field $setter $kind($ty) = $sample => $desc); )*
    };

    (@facts $name:ident $field:ident $setter:ident str($ty:tt) = $sample:expr => $desc:literal) => {
        impl $name {
            #[doc = concat!("Records ", $desc, ".")]
            ///
            /// ```
            #[doc = concat!("let err = resilience::errors::", stringify!($name), "::new(\"it failed\")")]
            #[doc = concat!("    .", stringify!($setter), "(", stringify!($sample), ");")]
            #[doc = concat!("assert_eq!(err.", stringify!($field), "(), Some(", stringify!($sample), "));")]
            /// ```
            pub fn $setter(mut self, $field: impl ::core::convert::Into<::std::string::String>) -> Self {
                self.$field = ::core::option::Option::Some($field.into());
                self
            }

            #[doc = concat!("Returns ", $desc, ", if recorded.")]
            ///
            /// ```
            #[doc = concat!("let err = resilience::errors::", stringify!($name), "::new(\"it failed\");")]
            #[doc = concat!("assert_eq!(err.", stringify!($field), "(), None);")]
            /// ```
            pub fn $field(&self) -> ::core::option::Option<&str> {
                self.$field.as_deref()
            }
        }
    };

    (@facts $name:ident $field:ident $setter:ident path($ty:tt) = $sample:expr => $desc:literal) => {
        impl $name {
            #[doc = concat!("Records ", $desc, ".")]
            ///
            /// ```
            /// use std::path::Path;
            ///
            #[doc = concat!("let err = resilience::errors::", stringify!($name), "::new(\"it failed\")")]
            #[doc = concat!("    .", stringify!($setter), "(", stringify!($sample), ");")]
            #[doc = concat!("assert_eq!(err.", stringify!($field), "(), Some(Path::new(", stringify!($sample), ")));")]
            /// ```
            pub fn $setter(mut self, $field: impl ::core::convert::Into<::std::path::PathBuf>) -> Self {
                self.$field = ::core::option::Option::Some($field.into());
                self
            }

            #[doc = concat!("Returns ", $desc, ", if recorded.")]
            ///
            /// ```
            #[doc = concat!("let err = resilience::errors::", stringify!($name), "::new(\"it failed\");")]
            #[doc = concat!("assert_eq!(err.", stringify!($field), "(), None);")]
            /// ```
            pub fn $field(&self) -> ::core::option::Option<&::std::path::Path> {
                self.$field.as_deref()
            }
        }
    };

    (@facts $name:ident $field:ident $setter:ident copy($ty:tt) = $sample:expr => $desc:literal) => {
        impl $name {
            #[doc = concat!("Records ", $desc, ".")]
            ///
            /// ```
            /// use std::time::Duration;
            ///
            #[doc = concat!("let err = resilience::errors::", stringify!($name), "::new(\"it failed\")")]
            #[doc = concat!("    .", stringify!($setter), "(", stringify!($sample), ");")]
            #[doc = concat!("assert_eq!(err.", stringify!($field), "(), Some(", stringify!($sample), "));")]
            /// ```
            pub fn $setter(mut self, $field: $ty) -> Self {
                self.$field = ::core::option::Option::Some($field);
                self
            }

            #[doc = concat!("Returns ", $desc, ", if recorded.")]
            ///
            /// ```
            #[doc = concat!("let err = resilience::errors::", stringify!($name), "::new(\"it failed\");")]
            #[doc = concat!("assert_eq!(err.", stringify!($field), "(), None);")]
            /// ```
            pub fn $field(&self) -> ::core::option::Option<$ty> {
                self.$field
            }
        }
    };

    (@facts $name:ident $field:ident $setter:ident hint($ty:tt) = $sample:expr => $desc:literal) => {
        impl $name {
            #[doc = concat!("Records ", $desc, "; [`MarcusError::retry_after`](crate::MarcusError::retry_after) returns it, and `#[retry]` waits that long.")]
            ///
            /// ```
            /// use resilience::MarcusError;
            /// use std::time::Duration;
            ///
            #[doc = concat!("let err = resilience::errors::", stringify!($name), "::new(\"it failed\")")]
            #[doc = concat!("    .", stringify!($setter), "(", stringify!($sample), ");")]
            #[doc = concat!("assert_eq!(err.retry_after(), Some(", stringify!($sample), "));")]
            /// ```
            pub fn $setter(mut self, $field: $ty) -> Self {
                self.$field = ::core::option::Option::Some($field);
                self
            }
        }
    };
}

mod business_logic;
mod configuration;
mod integration;
mod security;
mod system;
mod transient;

pub use business_logic::*;
pub use configuration::*;
pub use integration::*;
pub use security::*;
pub use system::*;
pub use transient::*;

/// Declares [`Error`] over every ready-made type, and the downcast that lets
/// [`classify`](crate::classify) recognise them behind a `dyn Error`.
macro_rules! hierarchy {
    ($($ty:ident),* $(,)?) => {
        /// Any ready-made error, or a [`CircuitOpen`](crate::CircuitOpen); its
        /// [`MarcusError`](crate::MarcusError) answers are the held error's.
        ///
        /// Every ready-made type converts into it with `?` or `.into()`; new variants
        /// may be added, so match it with a wildcard arm.
        ///
        /// ```
        /// use resilience::{errors::RateLimit, Category, MarcusError};
        /// use std::time::Duration;
        ///
        /// fn call() -> Result<(), resilience::Error> {
        ///     Err(RateLimit::new("quota exceeded").with_retry_after(Duration::from_secs(2)))?
        /// }
        ///
        /// let err = call().unwrap_err();
        /// assert!(matches!(err, resilience::Error::RateLimit(_)));
        /// assert_eq!(err.code(), "RATE_LIMIT_ERROR");
        /// assert_eq!(err.category(), Category::Transient);
        /// assert_eq!(err.retry_after(), Some(Duration::from_secs(2)));
        /// assert_eq!(err.to_string(), "quota exceeded");
        /// ```
        #[derive(::core::fmt::Debug, ::thiserror::Error, crate::MarcusError)]
        #[non_exhaustive]
        pub enum Error {
            $(
                #[doc = concat!("A [`", stringify!($ty), "`].")]
                #[error(transparent)]
                #[marcus(transparent)]
                $ty(#[from] $ty),
            )*
            /// A call refused by an open circuit breaker.
            #[error(transparent)]
            #[marcus(transparent)]
            CircuitOpen(#[from] crate::CircuitOpen),
            /// A call cut off by `#[timeout]`.
            #[error(transparent)]
            #[marcus(transparent)]
            TimedOut(#[from] crate::TimedOut),
        }

        /// `error` as one of ours, if it is: what a retry around an `anyhow::Error` or a
        /// `Box<dyn Error>` decides by (see `crate::view`). Every error type of this
        /// crate is listed here, one downcast each; a new rejection (a pattern's
        /// `BulkheadFull`, `RateLimited`) is one more line below `TimedOut`'s.
        pub(crate) fn as_marcus<'a>(
            error: &'a (dyn ::std::error::Error + 'static),
        ) -> ::core::option::Option<&'a dyn crate::MarcusError> {
            if let ::core::option::Option::Some(e) = error.downcast_ref::<Error>() {
                return ::core::option::Option::Some(e);
            }
            if let ::core::option::Option::Some(e) = error.downcast_ref::<crate::CircuitOpen>() {
                return ::core::option::Option::Some(e);
            }
            if let ::core::option::Option::Some(e) = error.downcast_ref::<crate::TimedOut>() {
                return ::core::option::Option::Some(e);
            }
            // The other refusals, so a boxed one is recognised (`classification::Refusal`).
            if let ::core::option::Option::Some(e) = error.downcast_ref::<crate::BulkheadFull>() {
                return ::core::option::Option::Some(e);
            }
            if let ::core::option::Option::Some(e) = error.downcast_ref::<crate::RateLimited>() {
                return ::core::option::Option::Some(e);
            }
            if let ::core::option::Option::Some(e) = error.downcast_ref::<crate::Overloaded>() {
                return ::core::option::Option::Some(e);
            }
            if let ::core::option::Option::Some(e) = error.downcast_ref::<crate::InjectedFault>() {
                return ::core::option::Option::Some(e);
            }
            $(
                if let ::core::option::Option::Some(e) = error.downcast_ref::<$ty>() {
                    return ::core::option::Option::Some(e);
                }
            )*
            ::core::option::Option::None
        }
    };
}

hierarchy! {
    NetworkTimeout, ServiceUnavailable, RateLimit, TemporaryResource,
    MissingCredentials, InvalidConfiguration, MissingDependency, Environment,
    TaskAssignment, WorkflowViolation, Validation, StateConflict, TaskValidation,
    ProjectRootNotFound,
    KanbanIntegration, AiProvider, Authentication, ExternalService,
    Authorization, WorkspaceSecurity, Permission,
    ResourceExhaustion, CorruptedState, Database, CriticalDependency,
}
