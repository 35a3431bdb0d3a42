//! Classification of `std::io::ErrorKind`.

use std::io::ErrorKind;

use super::Classification;
use crate::{Category, Severity};

const fn class(category: Category, severity: Severity, retryable: bool) -> Classification {
    Classification {
        category,
        severity,
        retryable,
        retry_after: None,
    }
}

const TRANSIENT: Classification = class(Category::Transient, Severity::Medium, true);
const UNREACHABLE: Classification = class(Category::Integration, Severity::Medium, true);
const CONFIGURATION: Classification = class(Category::Configuration, Severity::High, false);
const INVALID: Classification = class(Category::BusinessLogic, Severity::Medium, false);
const SECURITY: Classification = class(Category::Security, Severity::High, false);
const EXHAUSTED: Classification = class(Category::System, Severity::Critical, false);

/// What an I/O error kind says, or `None` for kinds that say nothing (`Other`, and any
/// kind added to std later), so the message is read instead.
///
/// The decisions, and why:
/// - the call may work if made again (`TimedOut`, `WouldBlock`, `Interrupted`, a busy
///   resource, a dropped connection: `ConnectionReset`, `ConnectionAborted`,
///   `NotConnected`, `BrokenPipe`, `UnexpectedEof`, `WriteZero`): transient;
/// - the peer could not be reached at all (`ConnectionRefused`, `HostUnreachable`,
///   `NetworkUnreachable`, `NetworkDown`): integration, retryable, since the service
///   (not this call) is down and a circuit breaker should see it;
/// - a path, address or platform someone chose is wrong (`NotFound`, `AddrInUse`,
///   `AddrNotAvailable`, `Unsupported`, directory/filesystem kinds): configuration;
/// - the request is wrong (`InvalidInput`, `InvalidData`, `AlreadyExists`, ...):
///   business logic;
/// - `PermissionDenied`: security;
/// - the machine ran out of something (`OutOfMemory`, `StorageFull`, `QuotaExceeded`):
///   system, critical.
pub(super) fn classify_kind(kind: ErrorKind) -> Option<Classification> {
    use ErrorKind::*;
    Some(match kind {
        TimedOut
        | WouldBlock
        | Interrupted
        | ConnectionReset
        | ConnectionAborted
        | NotConnected
        | BrokenPipe
        | UnexpectedEof
        | WriteZero
        | ResourceBusy
        | ExecutableFileBusy
        | Deadlock
        | StaleNetworkFileHandle => TRANSIENT,
        ConnectionRefused | HostUnreachable | NetworkUnreachable | NetworkDown => UNREACHABLE,
        NotFound | AddrInUse | AddrNotAvailable | Unsupported | NotADirectory | IsADirectory
        | DirectoryNotEmpty | ReadOnlyFilesystem | CrossesDevices | TooManyLinks => CONFIGURATION,
        InvalidInput | InvalidData | AlreadyExists | NotSeekable | FileTooLarge
        | ArgumentListTooLong => INVALID,
        PermissionDenied => SECURITY,
        OutOfMemory | StorageFull | QuotaExceeded => EXHAUSTED,
        _ => return None,
    })
}
