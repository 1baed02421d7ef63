//! What the hcp-app suites share: the real reference hall on 127.0.0.1:0.

use hcp_hall::RunningServer;

/// Two generated halls of October 2026 (`evaluations` in all), served on a free
/// loopback port.
pub async fn server(seed: u64, evaluations: usize) -> RunningServer {
    hcp_hall::serve_fixture(seed, 2, evaluations, "admin").await
}
