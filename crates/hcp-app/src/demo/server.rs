//! The demo's embedded reference hall: started on loopback with the generated feed and the records the demo halls sent since.

use super::*;

/// A rating with a level the API does not have (9): quarantined with its reason.
pub(crate) fn broken_record(anchor: DateTime<Utc>) -> Appended {
    let hall = "340825-ZWFW";
    let at = bj(anchor) - Duration::hours(3);
    Appended {
        hall: hall.into(),
        kind: "evaluation".into(),
        data: serde_json::json!({
            "id": "E-DEMO-0000001", "rev": 1, "hall_id": hall, "channel": "window_device",
            "level": 9, "comment": "评价器固件异常时送出的记录",
            "evaluated_at": at.to_rfc3339(), "status": "valid",
        }),
    }
}

pub(crate) async fn start_server(
    anchor: DateTime<Utc>,
    appended: &[Appended],
) -> AppResult<RunningServer> {
    let until = anchor.with_timezone(&beijing()).fixed_offset();
    let spec = SpanSpec {
        seed: DEMO_SEED,
        halls: 3,
        evaluations: DEMO_EVALUATIONS,
        first_day: until.date_naive() - Duration::days(DEMO_DAYS - 1),
        until,
    };
    let server = hcp_hall::start_demo(spec, appended, random_token)
        .await
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("无法启动演示大厅服务：{e}")))?;
    tracing::info!(addr = %server.addr, "demo hall server started");
    Ok(server)
}
