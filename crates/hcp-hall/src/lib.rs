//! The reference hall server of HCP Supervisor.
//!
//! Speaks hall-api v1 (`shared/hall-api/v1.md`) for several halls from one process
//! under `/h/<hall>/`, with an admin API to append records at run time and fault
//! switches for tests, and generates deterministic synthetic halls. Used by the
//! demo, the tests and the benchmarks.

mod change;
pub mod feed;
pub mod generate;
pub mod plant;
pub mod server;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use feed::{HallState, NewChange};
pub use generate::{
    GenSpec, GeneratedHall, SpanSpec, cst, generate, generate_realistic, generate_span,
};
pub use plant::{AnswerKey, Plant, plant_anomalies};
pub use server::{Faults, RunningServer, ServerState};

/// `halls.json` of a data directory: which halls, with which tokens.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// The admin token.
    pub admin_token: String,
    /// The halls.
    pub halls: Vec<ManifestHall>,
}

/// One hall of the manifest.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ManifestHall {
    /// 大厅编码 (also its subdirectory).
    pub hall_id: String,
    /// Its bearer token.
    pub token: String,
}

/// A deterministic admin token for a seed.
pub fn admin_token_for(seed: u64) -> String {
    let mut rng = generate::Rng::new(seed ^ 0xAD_0000_0000);
    format!("admin-{:016x}", rng.next_u64())
}

/// Writes halls to a data directory: `halls.json` and one folder per hall.
pub fn save_dataset(dir: &Path, halls: &[HallState], admin_token: &str) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for h in halls {
        h.save(&dir.join(&h.profile.hall_id))?;
    }
    let manifest = Manifest {
        admin_token: admin_token.to_string(),
        halls: halls
            .iter()
            .map(|h| ManifestHall {
                hall_id: h.profile.hall_id.clone(),
                token: h.token.clone(),
            })
            .collect(),
    };
    std::fs::write(
        dir.join("halls.json"),
        serde_json::to_vec_pretty(&manifest)?,
    )
}

/// Reads a data directory written by [`save_dataset`].
pub fn load_dataset(dir: &Path) -> std::io::Result<(Manifest, Vec<HallState>)> {
    let manifest: Manifest = serde_json::from_slice(&std::fs::read(dir.join("halls.json"))?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let halls = manifest
        .halls
        .iter()
        .map(|h| HallState::load(&dir.join(&h.hall_id), h.token.clone()))
        .collect::<std::io::Result<_>>()?;
    Ok((manifest, halls))
}

/// `--live`: appends one new evaluation per hall every `interval`, forever (drop
/// or abort the future to stop). Evaluations are stamped "now" in Beijing time.
pub async fn produce_live(
    state: std::sync::Arc<ServerState>,
    seed: u64,
    interval: std::time::Duration,
) {
    let ids = state.hall_ids();
    let mut makers: Vec<generate::EvaluationMaker> = (0..ids.len())
        .map(|n| generate::EvaluationMaker::for_hall(seed, n))
        .collect();
    let mut tick = tokio::time::interval(interval.max(std::time::Duration::from_millis(10)));
    let mut n = 0u64;
    loop {
        tick.tick().await;
        n += 1;
        for (i, hall) in ids.iter().enumerate() {
            let mut e = makers[i].evaluation(chrono::Utc::now().with_timezone(&generate::cst()));
            e.hall_id = hall.clone();
            // "EL" ids never collide with generated ones ("E" + date + counter).
            e.id = format!("EL{}{:07}", e.evaluated_at.format("%Y%m%d%H%M"), n);
            let c = NewChange::new("evaluation", &e);
            state.with_hall_mut(hall, |h| h.append(c));
        }
    }
}

/// Generates the halls of `spec` and serves them on `addr` (use `127.0.0.1:0`):
/// the one way the demo and the tests start a reference hall.
pub async fn serve_generated(
    spec: &GenSpec,
    addr: std::net::SocketAddr,
    admin_token: String,
) -> std::io::Result<RunningServer> {
    let halls = generate(spec)
        .into_iter()
        .map(HallState::from_generated)
        .collect();
    RunningServer::start(
        addr,
        ServerState::new(halls, admin_token, Faults::default()),
    )
    .await
}

/// A record a demo hall sends after its generated feed (a rectification, an
/// appeal, a broken record for the quarantine…), replayed on every start.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DemoRecord {
    /// The hall it belongs to.
    pub hall: String,
    /// `evaluation`, `appeal` or `rectification`.
    pub kind: String,
    /// The record as the hall sends it.
    pub data: serde_json::Value,
}

/// Starts the demo's reference hall on 127.0.0.1 (a free port): the halls of
/// `spec` generated off the async runtime, each with a fresh token from `token`
/// (the data is fixed by the seed, the keys to it must not be), then the records
/// the demo halls sent later, in order. The one way the demo's server starts,
/// whoever asks for the demo.
pub async fn start_demo(
    spec: SpanSpec,
    appended: &[DemoRecord],
    mut token: impl FnMut() -> String,
) -> std::io::Result<RunningServer> {
    let generated = tokio::task::spawn_blocking(move || {
        let mut halls = generate_span(&spec);
        plant_demo(&mut halls, &spec);
        halls
    })
    .await
    .map_err(std::io::Error::other)?;
    let halls: Vec<HallState> = generated
        .into_iter()
        .map(|g| {
            let mut h = HallState::from_generated(g);
            h.token = token();
            h
        })
        .collect();
    let server = RunningServer::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        ServerState::new(halls, token(), Faults::default()),
    )
    .await?;
    for a in appended {
        server.append(&a.hall, &a.kind, &a.data);
    }
    Ok(server)
}

/// The demo's anomalies, so that 预警 has something to show: every kind in the
/// month before today's, and a spike and a burst of praise in this month's days
/// before today (when it has a working day yet).
fn plant_demo(halls: &mut [GeneratedHall], spec: &SpanSpec) {
    use chrono::Datelike;
    let today = spec.until.date_naive();
    let Some(this_month) = today.with_day(1) else {
        return;
    };
    let Some(prev_last) = this_month.pred_opt() else {
        return;
    };
    let Some(prev_first) = prev_last.with_day(1) else {
        return;
    };
    plant::plant_between(halls, spec.seed, prev_first, prev_last, 0, &plant::RULES);
    if let Some(yesterday) = today.pred_opt()
        && yesterday >= this_month
    {
        plant::plant_between(
            halls,
            spec.seed ^ 0x5EED,
            this_month,
            yesterday,
            0,
            &["spike", "praise_burst"],
        );
    }
}

/// `halls` generated halls of October 2026 (`evaluations` in all, from `seed`) on
/// a free loopback port, with `admin_token` for the admin API: the fixture the
/// test suites start.
pub async fn serve_fixture(
    seed: u64,
    halls: usize,
    evaluations: usize,
    admin_token: &str,
) -> RunningServer {
    let spec = GenSpec {
        seed,
        halls,
        evaluations,
        year: 2026,
        month: 10,
        months: 1,
    };
    serve_generated(
        &spec,
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        admin_token.to_owned(),
    )
    .await
    .expect("the reference hall starts on a free loopback port")
}
