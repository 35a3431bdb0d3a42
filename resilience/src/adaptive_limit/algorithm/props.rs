//! Property tests: each algorithm against a reference model of its formula, written
//! from the definitions (Netflix concurrency-limits' `VegasLimit`, `Gradient2Limit`,
//! `AIMDLimit`) as plainly as possible, fed the same random samples; and the bounds,
//! whatever the samples.

use proptest::prelude::*;

use super::*;

fn bounds() -> impl Strategy<Value = (Bounds, u32)> {
    (1u32..200, 0u32..400, 0u32..600).prop_map(|(min, span, initial)| {
        (
            Bounds {
                min,
                max: min + span,
            },
            initial,
        )
    })
}

fn samples() -> impl Strategy<Value = Vec<Sample>> {
    prop::collection::vec(
        (1u64..1_000_000_000, 0u32..800, prop::bool::weighted(0.1)).prop_map(
            |(rtt, in_flight, dropped)| Sample {
                rtt,
                in_flight,
                dropped,
            },
        ),
        1..200,
    )
}

/// AIMD by its definition.
fn aimd_model(limit: f64, s: Sample, b: Bounds, ratio: f64) -> f64 {
    let next = if s.dropped {
        (limit * ratio).floor()
    } else if 2 * u64::from(s.in_flight) >= limit as u64 {
        limit + 1.0
    } else {
        limit
    };
    next.max(f64::from(b.min)).min(f64::from(b.max))
}

/// Vegas's limit step by its definition, given the no-load time (no probe, no new
/// minimum: those are the state machine's, checked in the test below).
fn vegas_step(limit: f64, noload: u64, s: Sample, b: Bounds) -> f64 {
    let log = |l: f64| -> f64 {
        let l = l as u32;
        if l < 10 {
            1.0
        } else {
            f64::from(l.ilog10())
        }
    };
    let queue = (limit * (1.0 - noload as f64 / s.rtt as f64)).ceil();
    let next = if s.dropped {
        limit - log(limit)
    } else if 2.0 * f64::from(s.in_flight) < limit {
        return limit;
    } else if queue <= log(limit) {
        limit + 6.0 * log(limit)
    } else if queue < 3.0 * log(limit) {
        limit + log(limit)
    } else if queue > 6.0 * log(limit) {
        limit - log(limit)
    } else {
        return limit;
    };
    next.max(f64::from(b.min)).min(f64::from(b.max))
}

proptest! {
    #[test]
    fn aimd_follows_its_formula((b, initial) in bounds(), samples in samples(), ratio in 0.5f64..1.0) {
        let mut aimd = Aimd::new(f64::from(initial), b, ratio);
        let mut model = f64::from(initial).floor().max(f64::from(b.min)).min(f64::from(b.max));
        for s in samples {
            model = aimd_model(model, s, b, ratio);
            prop_assert_eq!(aimd.update(s), model);
        }
    }

    #[test]
    fn vegas_follows_its_formula((b, initial) in bounds(), samples in samples(), seed: u64) {
        let mut vegas = Vegas::new(f64::from(initial), b, seed);
        let mut limit = f64::from(initial).max(f64::from(b.min)).min(f64::from(b.max));
        for s in samples {
            let noload_before = vegas.rtt_noload();
            let got = vegas.update(s);
            let noload_after = vegas.rtt_noload();
            if noload_after != noload_before || noload_before.is_none() {
                // A probe or a new minimum: the no-load time moved, the limit did not.
                prop_assert_eq!(noload_after, Some(s.rtt));
                prop_assert_eq!(got, limit);
            } else {
                limit = vegas_step(limit, noload_before.unwrap(), s, b);
                prop_assert_eq!(got, limit);
            }
        }
    }

    #[test]
    fn vegas_takes_a_new_minimum_and_probes_only_within_its_interval(samples in samples(), seed: u64) {
        let b = Bounds { min: 1, max: 1000 };
        let mut vegas = Vegas::new(20.0, b, seed);
        let mut since_probe = 0u64;
        // The limit the last sample was judged by (no probe then).
        let mut last_limit = f64::INFINITY;
        for s in samples {
            let before = vegas.rtt_noload();
            let limit = vegas.limit();
            vegas.update(s);
            since_probe += 1;
            match before {
                None => prop_assert_eq!(vegas.rtt_noload(), Some(s.rtt)),
                Some(noload) if s.rtt < noload => prop_assert_eq!(vegas.rtt_noload(), Some(s.rtt)),
                Some(noload) if vegas.probe_count() != 0 => prop_assert_eq!(vegas.rtt_noload(), Some(noload)),
                Some(_) => {}
            }
            if vegas.probe_count() == 0 {
                // A probe: after at least half of 30 × limit samples, and the first sample
                // after the count passed jitter × 30 × limit.
                prop_assert_eq!(vegas.rtt_noload(), Some(s.rtt));
                prop_assert!(since_probe as f64 >= 0.5 * 30.0 * limit);
                prop_assert!(since_probe as f64 <= 30.0 * last_limit + 1.0, "{} {}", since_probe, last_limit);
                since_probe = 0;
            }
            last_limit = limit;
        }
    }

    #[test]
    fn gradient2_follows_its_formula((b, initial) in bounds(), samples in samples()) {
        let mut g = Gradient2::new(f64::from(initial), b);
        let mut limit = f64::from(initial).max(f64::from(b.min)).min(f64::from(b.max));
        // The long average: the warmup's plain mean, then 2 / (600 + 1) per sample.
        let (mut long, mut sum, mut n) = (0.0f64, 0.0f64, 0u32);
        for s in samples {
            let short = s.rtt as f64;
            if n >= 10 && short > long && limit > f64::from(b.min) {
                long += (short - long) * (2.0 / 6001.0);
            } else if n < 10 {
                n += 1;
                sum += short;
                long = sum / f64::from(n);
            } else {
                let k = 2.0 / 601.0;
                long = long * (1.0 - k) + short * k;
            }
            let long_used = long;
            if long / short > 2.0 {
                long *= 0.95;
            }
            if s.dropped || f64::from(s.in_flight) >= limit / 2.0 {
                let gradient = if s.dropped { 0.5 } else { (1.5 * long_used / short).clamp(0.5, 1.0) };
                let allowance = if gradient >= 1.0 { 4.0 } else { 0.0 };
                let next = limit * 0.8 + (limit * gradient + allowance) * 0.2;
                limit = next.max(f64::from(b.min)).min(f64::from(b.max));
            }
            let got = g.update(s);
            prop_assert!((got - limit).abs() <= 1e-9 * limit.max(1.0), "{} vs {}", got, limit);
        }
    }

    #[test]
    fn every_algorithm_stays_within_its_bounds((b, initial) in bounds(), samples in samples(), seed: u64) {
        for algorithm in [Algorithm::Vegas, Algorithm::Gradient2, Algorithm::Aimd] {
            let mut e = Estimator::new(algorithm, initial, b, 0.9, seed);
            for s in &samples {
                let l = e.update(*s);
                prop_assert!(l >= f64::from(b.min) && l <= f64::from(b.max), "{:?}: {}", algorithm, l);
            }
        }
    }
}
