//! Report numbers are the office's: given out by the hub, checked again when the
//! report is uploaded (two desks at once: one gets `conflict`), corrections keep
//! the number and need their note; directors see their hall's, shoppers none.

#[path = "../../../tests/support/pg.rs"]
mod common;
mod support;
use support::{ADMIN, PASSWORD};

use hcp_core::Role;
use hcp_core::hub::{NextIssueArgs, NextIssueNo, ReportUpload};
use hcp_hub::{AccountRole, Hub, HubError};

fn upload(
    month: &str,
    hall: Option<&str>,
    next: NextIssueNo,
    correction: Option<&str>,
) -> ReportUpload {
    use base64::Engine;
    ReportUpload {
        month: month.into(),
        hall_id: hall.map(Into::into),
        next,
        model_json: format!(r#"{{"month":"{month}"}}"#),
        document_base64: base64::engine::general_purpose::STANDARD.encode(b"%PDF-1.7 test"),
        correction: correction.map(Into::into),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_numbers_issued_reports_once_per_office() {
    let pg = common::PgCluster::start();
    let url = pg.database("reports").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    common::hub_hall_row(&url, "H1").await;
    for (name, role, hall) in [
        ("陈静", Role::Officer, None),
        ("周敏", Role::Officer, None),
        ("王主任", Role::Director, Some("H1")),
        ("李明", Role::Shopper, None),
    ] {
        hub.add_user(name, AccountRole::Person(role), hall, PASSWORD, ADMIN)
            .await
            .unwrap();
    }
    let who = |n: &str| {
        let hub = hub.clone();
        let n = n.to_owned();
        async move { hub.login(&n, PASSWORD).await.unwrap().account }
    };
    let (chen, zhou, wang, li) = (
        who("陈静").await,
        who("周敏").await,
        who("王主任").await,
        who("李明").await,
    );
    let ask = |month: &str, hall: Option<&str>| NextIssueArgs {
        month: month.into(),
        hall_id: hall.map(Into::into),
    };

    // Both officers ask for October of H1 at once: the same answer, one upload wins.
    let n1 = hub
        .next_issue(&chen, &ask("2026-10", Some("H1")))
        .await
        .unwrap();
    let n2 = hub
        .next_issue(&zhou, &ask("2026-10", Some("H1")))
        .await
        .unwrap();
    assert_eq!(
        n1,
        NextIssueNo {
            version: 1,
            year: 2026,
            issue_no: 1
        }
    );
    assert_eq!(n1, n2);
    let first = hub
        .store_report(&chen, &upload("2026-10", Some("H1"), n1, None))
        .await
        .unwrap();
    assert_eq!((first.year, first.issue_no, first.version), (2026, 1, 1));
    let e = hub
        .store_report(&zhou, &upload("2026-10", Some("H1"), n2, None))
        .await
        .unwrap_err();
    assert!(matches!(e, HubError::Conflict(_)), "{e}");
    // Asked again it is a correction of the same number, which needs its note.
    let again = hub
        .next_issue(&zhou, &ask("2026-10", Some("H1")))
        .await
        .unwrap();
    assert_eq!(
        again,
        NextIssueNo {
            version: 2,
            year: 2026,
            issue_no: 1
        }
    );
    let e = hub
        .store_report(&zhou, &upload("2026-10", Some("H1"), again, None))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("更正说明"), "{e}");
    let v2 = hub
        .store_report(
            &zhou,
            &upload("2026-10", Some("H1"), again, Some("更正窗口编号")),
        )
        .await
        .unwrap();
    assert_eq!((v2.issue_no, v2.version), (1, 2));
    // Another scope takes the year's next number.
    let all = hub.next_issue(&chen, &ask("2026-10", None)).await.unwrap();
    assert_eq!(
        all,
        NextIssueNo {
            version: 1,
            year: 2026,
            issue_no: 2
        }
    );
    hub.store_report(&chen, &upload("2026-10", None, all, None))
        .await
        .unwrap();

    // Not a PDF, a bad month: refused.
    let mut bad = upload(
        "2026-11",
        None,
        NextIssueNo {
            version: 1,
            year: 2026,
            issue_no: 3,
        },
        None,
    );
    bad.document_base64 = "PGh0bWw+".into();
    assert!(hub.store_report(&chen, &bad).await.is_err());
    assert!(hub.next_issue(&chen, &ask("2026-13", None)).await.is_err());

    // Who sees and does what.
    assert_eq!(hub.reports(&chen).await.unwrap().len(), 3);
    let his = hub.reports(&wang).await.unwrap();
    assert_eq!(his.len(), 2);
    assert!(his.iter().all(|r| r.hall_id.as_deref() == Some("H1")));
    let full = hub.report(&wang, first.report_id).await.unwrap();
    assert_eq!(full.report, first);
    let other = hub
        .reports(&chen)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.hall_id.is_none())
        .unwrap();
    assert!(matches!(
        hub.report(&wang, other.report_id).await,
        Err(HubError::NotFound(_))
    ));
    assert!(matches!(
        hub.reports(&li).await,
        Err(HubError::Forbidden(_))
    ));
    assert!(matches!(
        hub.next_issue(&wang, &ask("2026-10", Some("H1"))).await,
        Err(HubError::Forbidden(_))
    ));
    assert!(matches!(
        hcp_hub::verify_audit(&hub, None).await.unwrap(),
        hcp_hub::AuditCheck::Intact { .. }
    ));
}
