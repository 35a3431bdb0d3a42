//! [`LoadError`]: a configuration refused, with where it was written.

use std::fmt;

/// A configuration file (or environment variable) that was refused: where, which dotted
/// key, which value, and why. Nothing of a refused configuration is applied.
///
/// Its `Display` reads `resilience.toml:3: breaker.kanban.failure_threshold = 0: must be
/// at least 1`.
///
/// ```
/// use resilience::config::Config;
///
/// let err = Config::parse("[breaker.kanban]\nfailure_threshold = 0\n").unwrap_err();
/// assert_eq!(err.line(), Some(2));
/// assert_eq!(err.key(), Some("breaker.kanban.failure_threshold"));
/// assert_eq!(err.value(), Some("0"));
/// assert!(err.to_string().starts_with("<string>:2: breaker.kanban.failure_threshold = 0: "));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadError {
    pub(crate) origin: String,
    pub(crate) line: Option<usize>,
    pub(crate) key: Option<String>,
    pub(crate) value: Option<String>,
    pub(crate) message: String,
}

impl LoadError {
    pub(crate) fn new(origin: impl Into<String>, message: impl Into<String>) -> LoadError {
        LoadError {
            origin: origin.into(),
            line: None,
            key: None,
            value: None,
            message: message.into(),
        }
    }

    pub(crate) fn at_line(mut self, line: Option<usize>) -> LoadError {
        self.line = line;
        self
    }

    pub(crate) fn with_key(mut self, key: impl Into<String>) -> LoadError {
        self.key = Some(key.into());
        self
    }

    pub(crate) fn with_value(mut self, value: impl Into<String>) -> LoadError {
        self.value = Some(value.into());
        self
    }

    /// Where the refused value was written: the file's path, `<string>` for
    /// [`Config::parse`](super::Config::parse), or the environment variable's name.
    ///
    /// ```
    /// let err = resilience::config::Config::parse("[nope]").unwrap_err();
    /// assert_eq!(err.origin(), "<string>");
    /// ```
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The line of the file (1-based), when the error is in a file.
    ///
    /// ```
    /// let err = resilience::config::Config::parse("\n[nope]").unwrap_err();
    /// assert_eq!(err.line(), Some(2));
    /// ```
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// The dotted key refused (`breaker.kanban.failure_threshold`), when there is one.
    ///
    /// ```
    /// let err = resilience::config::Config::parse("[retry.a]\nmax_attempts = 0").unwrap_err();
    /// assert_eq!(err.key(), Some("retry.a.max_attempts"));
    /// ```
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// The refused value as written, when there is one.
    ///
    /// ```
    /// let err = resilience::config::Config::parse("[retry.a]\nmax_attempts = 0").unwrap_err();
    /// assert_eq!(err.value(), Some("0"));
    /// ```
    pub fn value(&self) -> Option<&str> {
        self.value.as_deref()
    }

    /// Why it was refused.
    ///
    /// ```
    /// let err = resilience::config::Config::parse("[nope]").unwrap_err();
    /// assert!(err.message().contains("unknown table `nope`"));
    /// ```
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        match (&self.key, &self.value) {
            (Some(key), Some(value)) => write!(f, ": {key} = {value}")?,
            (Some(key), None) => write!(f, ": {key}")?,
            _ => {}
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for LoadError {}
