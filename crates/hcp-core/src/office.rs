//! The issuing office as a 公文 (GB/T 9704-2012) names it — 设置 → 发文机关: the
//! name that signs, the red mark of the 版头, the 机关代字 of the 发文字号, whom it
//! is addressed to and copied to, who prints it, and where its 公示 is published.
//! One value for the desk's settings, the report model and the office hub.

use serde::{Deserialize, Serialize};

/// 设置 → 发文机关.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(
    feature = "ts",
    derive(ts_rs::TS),
    ts(export_to = "OfficeSettings.ts", rename = "OfficeSettings")
)]
pub struct Office {
    /// 发文机关名称 (署名), e.g. 某某市政务服务管理局.
    pub name: String,
    /// 发文机关标志 (版头, red); empty: the name followed by 文件.
    #[serde(default)]
    pub mark: String,
    /// 发文字号的机关代字, e.g. 某政管 (→ 某政管〔2026〕3号); empty: 〔2026〕第3期.
    #[serde(default)]
    pub code: String,
    /// 主送机关.
    #[serde(default)]
    pub to: Vec<String>,
    /// 抄送机关 (版记).
    #[serde(default)]
    pub cc: Vec<String>,
    /// 印发机关 (版记); empty: the name.
    #[serde(default)]
    pub printer: String,
    /// 公示网址: where the 公示 page is published (its QR code points there).
    #[serde(default)]
    pub public_url: String,
}

impl Office {
    /// 发文字号 of issue `no` of `year`: 代字〔2026〕3号, or 〔2026〕第3期 without a 代字.
    pub fn doc_number(&self, year: i64, no: i64) -> String {
        if self.code.trim().is_empty() {
            format!("〔{year}〕第{no}期")
        } else {
            format!("{}〔{year}〕{no}号", self.code.trim())
        }
    }

    /// The settings trimmed and checked, or why not (zh-CN): a name is required,
    /// texts are short and free of control characters, lists hold at most 40
    /// entries (empty ones dropped), an address is http(s).
    pub fn checked(self) -> Result<Self, String> {
        fn clean(v: &str, what: &str, max: usize) -> Result<String, String> {
            let v = v.trim();
            if v.chars().count() > max || v.chars().any(char::is_control) {
                return Err(format!("{what}过长或含有控制字符（不超过 {max} 字）"));
            }
            Ok(v.to_owned())
        }
        fn list(v: &[String], what: &str) -> Result<Vec<String>, String> {
            if v.len() > 40 {
                return Err(format!("{what}最多 40 个"));
            }
            let mut out = vec![];
            for x in v {
                let x = clean(x, what, 60)?;
                if !x.is_empty() {
                    out.push(x);
                }
            }
            Ok(out)
        }
        let o = Self {
            name: clean(&self.name, "发文机关名称", 40)?,
            mark: clean(&self.mark, "发文机关标志", 40)?,
            code: clean(&self.code, "机关代字", 12)?,
            to: list(&self.to, "主送机关")?,
            cc: list(&self.cc, "抄送机关")?,
            printer: clean(&self.printer, "印发机关", 40)?,
            public_url: clean(&self.public_url, "公示网址", 300)?,
        };
        if o.name.is_empty() {
            return Err("请填写发文机关名称（如 某某市政务服务管理局）".into());
        }
        if !(o.public_url.is_empty()
            || o.public_url.starts_with("https://")
            || o.public_url.starts_with("http://"))
        {
            return Err("公示网址应以 https:// 或 http:// 开头".into());
        }
        Ok(o)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_checks() {
        let o = Office {
            name: " 某某市政务服务管理局 ".into(),
            code: "某政管".into(),
            to: vec!["各县（市、区）政务服务中心".into(), "  ".into()],
            ..Office::default()
        };
        assert_eq!(o.doc_number(2026, 3), "某政管〔2026〕3号");
        let o = o.checked().unwrap();
        assert_eq!(o.name, "某某市政务服务管理局");
        assert_eq!(o.to.len(), 1);
        assert_eq!(Office::default().doc_number(2026, 3), "〔2026〕第3期");
        assert!(
            Office::default()
                .checked()
                .unwrap_err()
                .contains("发文机关名称")
        );
        let bad = Office {
            name: "x".into(),
            public_url: "javascript:alert(1)".into(),
            ..Office::default()
        };
        assert!(bad.checked().unwrap_err().contains("https://"));
        let long = Office {
            name: "长".repeat(41),
            ..Office::default()
        };
        assert!(long.checked().is_err());
    }
}
