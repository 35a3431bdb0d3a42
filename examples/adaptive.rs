//! The adaptive limit against a simulated server, on paused (virtual) time: 100 callers
//! in a closed loop, a server that works on C calls at once (20 ms each; the others
//! queue), its capacity halving and doubling again. Prints each phase's figures and
//! draws `docs/adaptive-simulation.svg` (limit, calls at the server, capacity and
//! median latency over time, per algorithm).
//!
//! ```text
//! cargo run -p resilience-tests --example adaptive
//! cargo run -p resilience-tests --example adaptive --features adaptive-peers -- --peers
//! ```
//!
//! With `--peers` (feature `adaptive-peers`) it also runs the same scenario, in real
//! time, through `tower-acc` and `tower-resilience-adaptive` beside this crate's
//! `AdaptiveLimitLayer` (both peers time their calls with `std::time::Instant`, which
//! paused time does not move), and prints the table of `docs/adaptive.md`.

#[path = "../tests/tests/support/adaptive_sim.rs"]
mod adaptive_sim;

use std::sync::Arc;
use std::time::Duration;

use adaptive_sim::{run, Front, Ours, PhaseStats, Point, Scenario, Unlimited};
use plotters::prelude::*;
use resilience::adaptive_limit::{AdaptiveLimiter, Algorithm};
use resilience::AdaptiveLimitConfig;

const ALGORITHMS: [Algorithm; 3] = [Algorithm::Vegas, Algorithm::Gradient2, Algorithm::Aimd];

fn config(algorithm: Algorithm) -> AdaptiveLimitConfig {
    AdaptiveLimitConfig {
        algorithm,
        min_limit: 1,
        max_limit: 200,
        initial_limit: 20,
        max_wait: Duration::from_secs(1),
        ..Default::default()
    }
}

fn ours(algorithm: Algorithm, scenario: &Scenario) -> Arc<dyn Front> {
    let limiter = AdaptiveLimiter::new(format!("example.{algorithm}"), config(algorithm)).unwrap();
    Arc::new(Ours {
        limiter: Arc::new(limiter),
        timeout: scenario.timeout,
    })
}

fn row(label: &str, s: &PhaseStats, unloaded_ms: f64) -> String {
    format!(
        "| {label} | {} | {} | {:.0} ms ({:.1}x) | {:.0} ({:.0} %) | {} |",
        s.capacity,
        s.median_limit.map_or("–".into(), |l| format!("{l:.0}")),
        s.median_latency_ms,
        s.median_latency_ms / unloaded_ms,
        s.throughput,
        100.0 * s.throughput / s.capacity_throughput,
        s.settle_secs.map_or("–".into(), |t| format!("{t:.1} s")),
    )
}

fn print_table(rows: &[(String, Vec<PhaseStats>)], unloaded_ms: f64) {
    println!("| front end | C | limit (median) | latency (median) | calls/s (of capacity) | limit within [0.8 C, 2 C] after |");
    println!("|---|---|---|---|---|---|");
    for (label, stats) in rows {
        for s in stats {
            println!("{}", row(label, s, unloaded_ms));
        }
    }
}

fn draw(path: &str, runs: &[(String, Vec<Point>)]) -> Result<(), Box<dyn std::error::Error>> {
    let root = SVGBackend::new(path, (1200, 330 * runs.len() as u32)).into_drawing_area();
    root.fill(&WHITE)?;
    let rows = root.split_evenly((runs.len(), 2));
    for (i, (label, series)) in runs.iter().enumerate() {
        let t_max = series.last().map_or(1.0, |p| p.t);
        let top = series
            .iter()
            .map(|p| p.limit.unwrap_or(0).max(p.in_flight).max(p.capacity))
            .max()
            .unwrap_or(1) as f64
            * 1.1;
        let mut chart = ChartBuilder::on(&rows[2 * i])
            .caption(format!("{label}: concurrency"), ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0.0..t_max, 0.0..top)?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc("calls")
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                series.iter().map(|p| (p.t, f64::from(p.capacity))),
                BLACK.stroke_width(2),
            ))?
            .label("capacity C")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLACK));
        chart
            .draw_series(LineSeries::new(
                series
                    .iter()
                    .filter_map(|p| p.limit.map(|l| (p.t, f64::from(l)))),
                BLUE.stroke_width(2),
            ))?
            .label("limit")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], BLUE));
        chart
            .draw_series(LineSeries::new(
                series.iter().map(|p| (p.t, f64::from(p.in_flight))),
                RED,
            ))?
            .label("calls at the server")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 16, y)], RED));
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;

        let latency_max = series
            .iter()
            .filter_map(|p| p.latency_ms)
            .fold(1.0, f64::max)
            * 1.1;
        let mut chart = ChartBuilder::on(&rows[2 * i + 1])
            .caption(
                format!("{label}: median latency at the server"),
                ("sans-serif", 18),
            )
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(40)
            .build_cartesian_2d(0.0..t_max, 0.0..latency_max)?;
        chart
            .configure_mesh()
            .x_desc("seconds")
            .y_desc("ms")
            .draw()?;
        chart.draw_series(LineSeries::new(
            series.iter().filter_map(|p| p.latency_ms.map(|l| (p.t, l))),
            GREEN.stroke_width(2),
        ))?;
    }
    root.present()?;
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let peers = std::env::args().any(|a| a == "--peers");
    let scenario = Scenario::standard(10);
    let unloaded_ms = scenario.base.as_secs_f64() * 1e3;
    let paused = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()?;
    let (rows, plots) = paused.block_on(async {
        let mut rows = Vec::new();
        let mut plots = Vec::new();
        let (series, stats) = run(&scenario, Arc::new(Unlimited)).await;
        rows.push(("no limit".to_string(), stats));
        plots.push(("no limit".to_string(), series));
        for algorithm in ALGORITHMS {
            let (series, stats) = run(&scenario, ours(algorithm, &scenario)).await;
            rows.push((algorithm.to_string(), stats));
            plots.push((algorithm.to_string(), series));
        }
        (rows, plots)
    });
    println!("Paused time: 100 callers, 20 ms a call, capacity 20 → 10 → 20, 10 s each (figures over each phase's second half)\n");
    print_table(&rows, unloaded_ms);
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../docs/adaptive-simulation.svg"
    );
    draw(path, &plots)?;
    println!("\nwrote {path}");
    if peers {
        peers::compare()?;
    }
    Ok(())
}

#[cfg(not(feature = "adaptive-peers"))]
mod peers {
    pub fn compare() -> Result<(), Box<dyn std::error::Error>> {
        Err("--peers needs the feature: cargo run -p resilience-tests --example adaptive --features adaptive-peers -- --peers".into())
    }
}

#[cfg(feature = "adaptive-peers")]
mod peers {
    use std::sync::Arc;
    use std::time::Duration;

    use tower::{service_fn, BoxError, Layer, Service, ServiceExt};

    use super::adaptive_sim::{run, Call, Front, Outcome, PhaseStats, Scenario, Server};
    use super::{config, print_table, Algorithm, ALGORITHMS};

    /// A call to the server, cut off by the caller's timeout (an error: a drop).
    async fn server_call(server: Arc<Server>, timeout: Duration) -> Result<Duration, BoxError> {
        tokio::time::timeout(timeout, server.call())
            .await
            .map_err(|_| -> BoxError { "request timed out".into() })
    }

    /// A tower service stack in front of the server: one clone per call.
    struct Stack<S> {
        service: S,
        limit: fn(&S) -> Option<u32>,
    }

    impl<S> Front for Stack<S>
    where
        S: Service<Arc<Server>, Response = Duration, Error = BoxError>
            + Clone
            + Send
            + Sync
            + 'static,
        S::Future: Send,
    {
        fn call(&self, server: Arc<Server>) -> Call {
            let svc = self.service.clone();
            Box::pin(async move {
                match svc.oneshot(server).await {
                    Ok(latency) => Outcome::Served(latency),
                    Err(e) => match e.downcast_ref::<resilience::Overloaded>() {
                        Some(o) => Outcome::Refused(o.retry_after),
                        None => Outcome::TimedOut,
                    },
                }
            })
        }

        fn gauge(&self) -> (Option<u32>, u32) {
            ((self.limit)(&self.service), 0)
        }
    }

    fn inner(
        timeout: Duration,
    ) -> impl Service<Arc<Server>, Response = Duration, Error = BoxError, Future = impl Send>
           + Clone
           + Send
           + Sync {
        service_fn(move |server: Arc<Server>| server_call(server, timeout))
    }

    async fn all(scenario: &Scenario) -> Vec<(String, Vec<PhaseStats>)> {
        let mut rows = Vec::new();
        let t = scenario.timeout;
        for algorithm in ALGORITHMS {
            let name = format!("peers.{algorithm}");
            let layer = resilience::tower::AdaptiveLimitLayer::new(&name).config(config(algorithm));
            let ours = Stack {
                service: layer.layer(inner(t)),
                limit: |s| Some(s.limiter().limit()),
            };
            rows.push((
                format!("resilience {algorithm}"),
                run(scenario, Arc::new(ours)).await.1,
            ));

            let acc = match algorithm {
                Algorithm::Vegas => tower_acc_stack(
                    tower_acc::Vegas::builder()
                        .initial_limit(20)
                        .max_limit(200)
                        .build(),
                    t,
                ),
                Algorithm::Gradient2 => tower_acc_stack(
                    tower_acc::Gradient2::builder()
                        .initial_limit(20)
                        .min_limit(1)
                        .max_limit(200)
                        .build(),
                    t,
                ),
                Algorithm::Aimd => tower_acc_stack(
                    tower_acc::Aimd::builder()
                        .initial_limit(20)
                        .min_limit(1)
                        .max_limit(200)
                        .build(),
                    t,
                ),
            };
            rows.push((format!("tower-acc {algorithm}"), run(scenario, acc).await.1));

            use tower_resilience_adaptive as tra;
            let tra_stack: Arc<dyn Front> = match algorithm {
                Algorithm::Vegas => tra_stack(
                    tra::Vegas::builder()
                        .initial_limit(20)
                        .min_limit(1)
                        .max_limit(200)
                        .build()
                        .unwrap(),
                    t,
                ),
                Algorithm::Gradient2 => tra_stack(
                    tra::Gradient2::builder()
                        .initial_limit(20)
                        .min_limit(1)
                        .max_limit(200)
                        .build()
                        .unwrap(),
                    t,
                ),
                Algorithm::Aimd => tra_stack(
                    tra::Aimd::builder()
                        .initial_limit(20)
                        .min_limit(1)
                        .max_limit(200)
                        .latency_threshold(t)
                        .build()
                        .unwrap(),
                    t,
                ),
            };
            rows.push((
                format!("tower-resilience-adaptive {algorithm}"),
                run(scenario, tra_stack).await.1,
            ));
        }
        rows
    }

    fn tower_acc_stack<A>(algorithm: A, t: Duration) -> Arc<dyn Front>
    where
        A: tower_acc::Algorithm + Clone + Send + Sync + 'static,
    {
        let service = tower_acc::ConcurrencyLimitLayer::new(algorithm).layer(inner(t));
        Arc::new(Stack {
            service,
            limit: |_| None,
        })
    }

    fn tra_stack<A>(algorithm: A, t: Duration) -> Arc<dyn Front>
    where
        A: tower_resilience_adaptive::ConcurrencyAlgorithm + Send + Sync + 'static,
    {
        let service =
            tower_resilience_adaptive::AdaptiveLimiterLayer::new(algorithm).layer(inner(t));
        let service = tower::util::MapErr::new(
            service,
            |e: tower_resilience_adaptive::AdaptiveError<BoxError>| -> BoxError {
                match e {
                    tower_resilience_adaptive::AdaptiveError::Service(e) => e,
                    other => other.to_string().into(),
                }
            },
        );
        Arc::new(Stack {
            service,
            limit: |_| None,
        })
    }

    pub fn compare() -> Result<(), Box<dyn std::error::Error>> {
        let scenario = Scenario::standard(5);
        let unloaded_ms = scenario.base.as_secs_f64() * 1e3;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_time()
            .build()?;
        let rows = rt.block_on(all(&scenario));
        println!("\nReal time, the same scenario (5 s a phase), each front end in turn:\n");
        print_table(&rows, unloaded_ms);
        Ok(())
    }
}
