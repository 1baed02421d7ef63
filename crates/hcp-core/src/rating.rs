//! Rating rules (DOMAIN.md "Ratings"): levels, channels, reason tags.

/// 评价等级, in the hall interfaces' numbering (5 best).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Level(u8);

impl Level {
    /// A level from its number, when it is 1..=5.
    pub fn new(n: u8) -> Option<Self> {
        (1..=5).contains(&n).then_some(Self(n))
    }

    /// The number, 1..=5.
    pub fn get(self) -> u8 {
        self.0
    }

    /// 差评 = level 1 or 2.
    pub fn is_bad(self) -> bool {
        self.0 <= BAD_LEVEL_MAX
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self.0 {
            5 => "非常满意",
            4 => "满意",
            3 => "基本满意",
            2 => "不满意",
            _ => "非常不满意",
        }
    }
}

/// The highest level that is a bad rating (差评), as a literal token for SQL text
/// built with `concat!` (see [`BAD_LEVEL_MAX`]).
#[macro_export]
macro_rules! bad_level_max {
    () => {
        2
    };
}

/// The highest level that is a bad rating (差评): 1 非常不满意, 2 不满意. The store's
/// SQL writes it into the text with [`bad_level_max!`] where a partial index must
/// match the query (SQLite uses a partial index only when the query's own text
/// implies the index's `WHERE`, which a bound parameter never does), and binds it
/// elsewhere.
pub const BAD_LEVEL_MAX: u8 = bad_level_max!();

/// Whether a level number is a bad rating (差评).
pub fn is_bad_level(level: u8) -> bool {
    Level::new(level).is_some_and(Level::is_bad)
}

/// Whether a rating at `level` in `status` (its wire spelling: valid, revised,
/// withdrawn) needs a case: a bad rating that the rater has not withdrawn. Any
/// level number — one outside 1..=5 needs none. The one place this rule lives:
/// the desk's feed, the hub's ingest and the report all ask here.
pub fn needs_case(level: i64, status: &str) -> bool {
    u8::try_from(level).is_ok_and(is_bad_level) && status != "withdrawn"
}

/// The wire spelling of 系统默认评价 ([`Channel::SystemDefault`]), as a literal for
/// SQL text.
pub const SYSTEM_DEFAULT: &str = "system_default";

/// 评价渠道.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// 窗口评价器.
    WindowDevice,
    /// 扫码评价.
    QrCode,
    /// 网上办事 (PC).
    Web,
    /// 移动端/小程序.
    App,
    /// 短信.
    Sms,
    /// 12345/电话.
    Hotline,
    /// 自助终端.
    Kiosk,
    /// 系统默认评价: the system filled the rating in because the citizen gave none
    /// (provincial interfaces' `pf` 7 in some tables). No person stands behind it:
    /// the report counts it apart and early warning never uses it as evidence.
    SystemDefault,
    /// 其他 (also any channel a server adds later).
    Other,
}

impl Channel {
    /// Every channel, in display order.
    pub const ALL: [Channel; 9] = [
        Self::WindowDevice,
        Self::QrCode,
        Self::Web,
        Self::App,
        Self::Sms,
        Self::Hotline,
        Self::Kiosk,
        Self::SystemDefault,
        Self::Other,
    ];

    /// Reads a wire spelling; unknown channels are `Other`.
    pub fn from_wire(s: &str) -> Self {
        match s {
            "window_device" => Self::WindowDevice,
            "qr_code" => Self::QrCode,
            "web" => Self::Web,
            "app" => Self::App,
            "sms" => Self::Sms,
            "hotline" => Self::Hotline,
            "kiosk" => Self::Kiosk,
            SYSTEM_DEFAULT => Self::SystemDefault,
            _ => Self::Other,
        }
    }

    /// The wire spelling.
    pub fn as_wire(self) -> &'static str {
        match self {
            Self::WindowDevice => "window_device",
            Self::QrCode => "qr_code",
            Self::Web => "web",
            Self::App => "app",
            Self::Sms => "sms",
            Self::Hotline => "hotline",
            Self::Kiosk => "kiosk",
            Self::SystemDefault => SYSTEM_DEFAULT,
            Self::Other => "other",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::WindowDevice => "窗口评价器",
            Self::QrCode => "扫码评价",
            Self::Web => "网上办事",
            Self::App => "移动端/小程序",
            Self::Sms => "短信",
            Self::Hotline => "12345/电话",
            Self::Kiosk => "自助终端",
            Self::SystemDefault => "系统默认评价",
            Self::Other => "其他",
        }
    }

    /// Whether a person gave the rating (everything but 系统默认评价).
    pub fn is_by_a_person(self) -> bool {
        self != Self::SystemDefault
    }

    /// Online channels have no window.
    pub fn is_online(self) -> bool {
        matches!(
            self,
            Self::QrCode | Self::Web | Self::App | Self::Sms | Self::Hotline
        )
    }
}

/// 差评原因 tags the reference server uses (others may appear and are kept).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReasonTag {
    /// 服务态度差.
    Attitude,
    /// 办理慢/超时.
    Slow,
    /// 多次跑动.
    RepeatVisits,
    /// 一次性告知不到位.
    UnclearGuide,
    /// 流程繁琐.
    Process,
    /// 环境设施.
    Facilities,
    /// 系统故障.
    System,
    /// 推诿扯皮.
    Shuffled,
    /// 其他.
    Other,
}

impl ReasonTag {
    /// Every known tag.
    pub const ALL: [ReasonTag; 9] = [
        Self::Attitude,
        Self::Slow,
        Self::RepeatVisits,
        Self::UnclearGuide,
        Self::Process,
        Self::Facilities,
        Self::System,
        Self::Shuffled,
        Self::Other,
    ];

    /// The wire spelling.
    pub fn as_wire(self) -> &'static str {
        match self {
            Self::Attitude => "attitude",
            Self::Slow => "slow",
            Self::RepeatVisits => "repeat_visits",
            Self::UnclearGuide => "unclear_guide",
            Self::Process => "process",
            Self::Facilities => "facilities",
            Self::System => "system",
            Self::Shuffled => "shuffled",
            Self::Other => "other",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Attitude => "服务态度差",
            Self::Slow => "办理慢/超时",
            Self::RepeatVisits => "多次跑动",
            Self::UnclearGuide => "一次性告知不到位",
            Self::Process => "流程繁琐",
            Self::Facilities => "环境设施",
            Self::System => "系统故障",
            Self::Shuffled => "推诿扯皮",
            Self::Other => "其他",
        }
    }

    /// Reads a wire spelling; `None` for a tag this version does not know.
    pub fn from_wire(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_wire() == s)
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn a_case_for_a_bad_rating_not_withdrawn() {
        assert!(needs_case(1, "valid") && needs_case(2, "revised"));
        assert!(!needs_case(3, "valid") && !needs_case(2, "withdrawn"));
        assert!(!needs_case(0, "valid") && !needs_case(-1, "valid") && !needs_case(300, "valid"));
    }

    use super::*;

    #[test]
    fn bad_rating_is_level_one_or_two() {
        assert!(is_bad_level(1));
        assert!(is_bad_level(2));
        assert!(!is_bad_level(3));
        assert!(!is_bad_level(5));
        assert!(!is_bad_level(0));
        assert!(!is_bad_level(7));
    }

    #[test]
    fn unknown_channel_reads_as_other() {
        assert_eq!(Channel::from_wire("fax"), Channel::Other);
        for c in Channel::ALL {
            assert_eq!(Channel::from_wire(c.as_wire()), c);
        }
    }
}
