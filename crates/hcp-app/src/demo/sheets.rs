//! The demo's spreadsheet hall: a provincial export of another hall's ratings, imported as an officer would.

use super::*;

/// The demo's hall without a server, run from files.
pub const DEMO_FILE_HALL: &str = "怀宁县政务服务中心";

/// A hall without a server, run from files as such offices do: last month's and
/// this month's ratings as the national standard lays them out (GB/T 39046-2020
/// 表9: A.8 codes, `YYYYMMDDThhmmss`, 二次评价, 系统默认评价), then the provincial
/// system's 差评工单 export moving its cases on — a rectification, an appeal the
/// province dismissed, a 追评 — both through the importer.
pub(crate) fn demo_files(s: &mut Store, anchor: DateTime<Utc>) -> AppResult<()> {
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    let now = bj(anchor);
    let today = now.date_naive();
    let first = last_month(anchor) + "-01";
    let first = NaiveDate::parse_from_str(&first, "%Y-%m-%d").unwrap_or(today);
    let tmp = tempfile::tempdir()
        .map_err(|e| AppError::new(ErrorCode::Internal, format!("无法创建临时目录：{e}")))?;
    let io = |e: std::io::Error| AppError::new(ErrorCode::Internal, e.to_string());
    let basic = |t: DateTime<FixedOffset>| t.format("%Y%m%dT%H%M%S").to_string();
    // (word, 满意度代码) by A.8; channels by the standard's words.
    const LEVELS: [(&str, u8); 5] = [
        ("非常满意", 1),
        ("满意", 2),
        ("基本满意", 3),
        ("不满意", 4),
        ("非常不满意", 5),
    ];
    const CHANNELS: [&str; 10] = [
        "政务大厅平板电脑",
        "政务大厅平板电脑",
        "政务大厅平板电脑",
        "政务大厅平板电脑",
        "二维码",
        "二维码",
        "移动服务端",
        "PC端",
        "系统默认评价",
        "电话",
    ];
    const NAMES: [&str; 8] = [
        "王敏", "刘洋", "张伟", "陈丽", "赵强", "孙涛", "周琳", "吴磊",
    ];
    const BAD_TEXT: [&str; 4] = [
        "材料清单和网上说的不一样，白跑一趟",
        "窗口人员玩手机，叫了两次才理",
        "预约了还要排一个多小时",
        "",
    ];
    let mut rows = vec![
        "办件编号,评价渠道,评价人,评价时间,评价次数,满意度,满意度代码,文字评价,行政区划".to_owned(),
    ];
    // (办件编号, 评价时间) of the bad ratings left as they were.
    let mut bad: Vec<(String, DateTime<FixedOffset>)> = vec![];
    let mut day = first;
    let mut n = 0;
    while day < today {
        if !matches!(day.weekday(), chrono::Weekday::Sat | chrono::Weekday::Sun) {
            for k in 0..3 {
                n += 1;
                let key = format!("file-{n}");
                let at = office_time(day, roll(&key, "time"));
                let serial = format!("340822-{}-{:04}", day.format("%Y%m%d"), k + 1);
                let channel = pick(&key, "channel", &CHANNELS);
                let r = roll(&key, "level");
                let level = if channel == "系统默认评价" {
                    1
                } else if r < 0.08 {
                    3 + usize::from(r < 0.03)
                } else if r < 0.12 {
                    2
                } else if r < 0.3 {
                    1
                } else {
                    0
                };
                let (word, code) = LEVELS[level];
                let who = if channel == "系统默认评价" || roll(&key, "anon") < 0.4 {
                    ""
                } else {
                    pick(&key, "name", &NAMES)
                };
                let text = if level >= 3 {
                    pick(&key, "text", &BAD_TEXT)
                } else {
                    ""
                };
                rows.push(format!(
                    "{serial},{channel},{who},{},1,{word},{code},{text},340822",
                    basic(at)
                ));
                if level >= 3 {
                    // Every other bad rating is rated again two days on, after the
                    // hall's follow-up: a 二次评价.
                    let again = at + Duration::days(2) + Duration::minutes(37);
                    if n % 2 == 0 && again < now {
                        rows.push(format!(
                            "{serial},{channel},{who},{},2,满意,2,回访后问题已解决,340822",
                            basic(again)
                        ));
                    } else {
                        bad.push((serial, at));
                    }
                }
            }
        }
        day += Duration::days(1);
    }
    let exported = |t: DateTime<FixedOffset>| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let gbt = tmp.path().join("怀宁县政务服务绩效评价数据.csv");
    let text = format!(
        "\u{feff}政务服务绩效评价基础数据（GB/T 39046-2020 表9）\n导出时间：{}\n{}\n",
        exported(now - Duration::hours(20)),
        rows.join("\n")
    );
    std::fs::write(&gbt, text).map_err(io)?;
    let mapping = {
        let seen = hcp_import::inspect(s, &gbt, None, None)?;
        let mut m = seen.mapping;
        m.default_hall = Some(DEMO_FILE_HALL.into());
        m
    };
    let opts = hcp_import::ImportOptions {
        mapping: Some(mapping),
        save_profile: Some("国家标准 GB/T 39046 表9".into()),
        create_halls: true,
        ..Default::default()
    };
    hcp_import::import_file(s, &gbt, &opts, officer, &mut |_| {})?;

    // The province's 差评工单 export, later: what the hall did about the first three.
    let mut orders = vec![
        "工单编号,办件编号,地区,评价时间,评价渠道,评价等级,差评内容,申诉理由,驳回理由,整改回复,整改人,整改时间,工单状态,追评等级,追评文本"
            .to_owned(),
    ];
    for (i, (serial, at)) in bad.iter().enumerate() {
        let no = format!("GD{}{:03}", at.format("%Y%m%d"), i + 1);
        let done = at.date_naive() + Duration::days(3) < today;
        let reply = |what: &str| -> String {
            match (i % 4, done) {
                (0, true) if what == "rectify" => format!(
                    "已在窗口张贴材料清单并与网上办事指南核对一致,{},{}",
                    pick(serial, "by", RESPONSIBLE),
                    exported(*at + Duration::days(2))
                ),
                _ if what == "rectify" => ",,".into(),
                _ => String::new(),
            }
        };
        let (appeal, rejected, status) = match (i % 4, done) {
            (1, true) => (
                "评价人情绪激动，工作人员已按规定解释，属恶意差评",
                "经核查评价反映情况属实，申诉理由不充分",
                "申诉驳回",
            ),
            (0, true) => ("", "", "已整改"),
            _ => ("", "", "待整改"),
        };
        let (follow_level, follow_text) = if i % 4 == 2 && done {
            ("满意", "窗口主动联系，问题已解决")
        } else {
            ("", "")
        };
        orders.push(format!(
            "{no},{serial},怀宁县,{},政务大厅平板电脑,不满意,,{appeal},{rejected},{},{status},{follow_level},{follow_text}",
            exported(*at),
            reply("rectify")
        ));
    }
    let work_orders = tmp.path().join("怀宁县差评工单.csv");
    let text = format!(
        "\u{feff}差评工单导出\n导出时间：{}\n{}\n",
        exported(now - Duration::hours(2)),
        orders.join("\n")
    );
    std::fs::write(&work_orders, text).map_err(io)?;
    let mapping = {
        let seen = hcp_import::inspect(s, &work_orders, None, None)?;
        let mut m = seen.mapping;
        m.default_hall = Some(DEMO_FILE_HALL.into());
        m
    };
    let opts = hcp_import::ImportOptions {
        mapping: Some(mapping),
        save_profile: Some("省平台差评工单导出".into()),
        ..Default::default()
    };
    hcp_import::import_file(s, &work_orders, &opts, officer, &mut |_| {})?;
    Ok(())
}
