//! A criterion measurement of the thread's CPU time instead of the wall clock, for a
//! machine others are building on: a benchmark thread taken off its core by the
//! scheduler stops its clock, so the other builds move the figures far less (caches and
//! the cores' shared parts still feel them). Chosen by `RESILIENCE_BENCH_CPU_TIME=1`;
//! Linux only (`CLOCK_THREAD_CPUTIME_ID`).

use std::time::Duration;

use criterion::measurement::{Measurement, ValueFormatter, WallTime};

/// Whether `RESILIENCE_BENCH_CPU_TIME` asks for CPU time (and this OS can give it).
pub fn chosen() -> bool {
    let asked = std::env::var("RESILIENCE_BENCH_CPU_TIME").is_ok_and(|v| v != "0");
    if asked && !cfg!(any(target_os = "linux", target_os = "android")) {
        eprintln!("RESILIENCE_BENCH_CPU_TIME: the thread's CPU time is read on Linux only; measuring the wall clock");
        return false;
    }
    if asked {
        eprintln!("measuring the benchmark thread's CPU time (RESILIENCE_BENCH_CPU_TIME), not the wall clock");
    }
    asked
}

/// The benchmark thread's CPU time, in the wall clock's units (so criterion prints and
/// compares it the same way).
pub struct CpuTime;

/// Lends [`CpuTime`] the wall clock's formatter: both are durations in nanoseconds.
static WALL: WallTime = WallTime;

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;

    fn start(&self) -> Duration {
        thread_cpu()
    }

    fn end(&self, started: Duration) -> Duration {
        thread_cpu().saturating_sub(started)
    }

    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }

    fn zero(&self) -> Duration {
        Duration::ZERO
    }

    fn to_f64(&self, value: &Duration) -> f64 {
        value.as_nanos() as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        WALL.formatter()
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
fn thread_cpu() -> Duration {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `clock_gettime` writes one `timespec` into the pointer it is given, which
    // points to one.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) };
    assert_eq!(status, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed");
    Duration::new(
        u64::try_from(now.tv_sec).unwrap_or(0),
        u32::try_from(now.tv_nsec).unwrap_or(0),
    )
}

/// Elsewhere [`chosen`] is false; this is the wall clock, should it be used anyway.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn thread_cpu() -> Duration {
    static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    START.get_or_init(std::time::Instant::now).elapsed()
}
