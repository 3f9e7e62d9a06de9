//! The application's error type: every failure a client can cause has a stable code and names its problem.

use oneseal_domain::calendar::CalendarError;
use oneseal_domain::case::CaseError;
use oneseal_domain::catalog::CatalogError;
use oneseal_domain::form::FieldError;
use oneseal_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{message}")]
    Invalid { code: &'static str, message: String, fields: Vec<FieldError> },
    #[error("{0}")]
    Case(#[from] CaseError),
    #[error("{0}")]
    Catalog(#[from] CatalogError),
    #[error("{0}")]
    Calendar(#[from] CalendarError),
    /// 多评合一: a refused command of a project's combined evaluation (its own code, status and Chinese title).
    #[error("{0}")]
    Evaluation(#[from] oneseal_domain::assessment::EvaluationError),
    #[error("the case changed meanwhile: it is at version {actual}, the request expected {expected}")]
    StaleVersion { expected: i64, actual: i64 },
    #[error("sign in first")]
    Unauthenticated,
    #[error("a code from the authenticator app (second factor) is needed, or the code was wrong")]
    TotpRequired,
    #[error("enrol a second factor (authenticator app) before anything else: POST /api/v1/me/totp")]
    TotpEnrolmentRequired,
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    Throttled { retry_after_secs: u64 },
    /// Another rate limit (registrations, anonymous lookups, …): what was limited, and when to try again.
    #[error("{message}; try again in {retry_after_secs} seconds")]
    RateLimited { code: &'static str, message: String, retry_after_secs: u64 },
    #[error("not allowed: {0}")]
    Forbidden(String),
    /// The request is well formed but conflicts with what is there now (a full slot, a busy window).
    #[error("{message}")]
    Conflict { code: &'static str, message: String, title_zh: &'static str },
    /// A body larger than allowed (a video over the size limit, bytes past an upload's declared length).
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    /// A body of a type not accepted (not a video, a PATCH without `application/offset+octet-stream`).
    #[error("{message}")]
    UnsupportedType { code: &'static str, message: String },
    /// Something that existed and is gone for good (an expired upload).
    #[error("{0} is gone")]
    Gone(String),
    #[error("internal error")]
    Internal(String),
    #[error("storage failure")]
    Store(StoreError),
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> AppError {
        match e {
            StoreError::Conflict { expected, actual, .. } => AppError::StaleVersion { expected, actual },
            other => AppError::Store(other),
        }
    }
}

impl AppError {
    /// The seconds a client should wait before trying again, for rate limits.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            AppError::Throttled { retry_after_secs } | AppError::RateLimited { retry_after_secs, .. } => {
                Some(*retry_after_secs)
            }
            _ => None,
        }
    }

    pub fn invalid(code: &'static str, message: impl Into<String>) -> AppError {
        AppError::Invalid { code, message: message.into(), fields: vec![] }
    }

    /// A stable, greppable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "not_found",
            AppError::Invalid { code, .. } => code,
            AppError::Case(e) => e.code(),
            AppError::Catalog(_) => "catalog_invalid",
            AppError::Calendar(e) => e.code(),
            AppError::Evaluation(e) => e.code(),
            AppError::StaleVersion { .. } => "stale_version",
            AppError::Unauthenticated => "unauthenticated",
            AppError::Throttled { .. } => "login_throttled",
            AppError::RateLimited { code, .. } => code,
            AppError::TotpRequired => "totp_required",
            AppError::TotpEnrolmentRequired => "totp_enrolment_required",
            AppError::Forbidden(_) => "forbidden",
            AppError::Conflict { code, .. } => code,
            AppError::TooLarge { code, .. } | AppError::UnsupportedType { code, .. } => code,
            AppError::Gone(_) => "gone",
            AppError::Internal(_) => "internal",
            AppError::Store(_) => "storage",
        }
    }

    /// The HTTP status this error maps to.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Invalid { .. } | AppError::Catalog(_) => 422,
            AppError::Calendar(CalendarError::YearNotCovered(_)) => 422,
            AppError::Calendar(_) => 422,
            AppError::Evaluation(e) => e.status(),
            AppError::Case(CaseError::Forbidden(_)) | AppError::Case(CaseError::ChecklistNotYours(_)) => 403,
            AppError::Case(CaseError::WrongStatus { .. })
            | AppError::Case(CaseError::SecondCorrection)
            | AppError::Case(CaseError::ClaimedByOther(_))
            | AppError::Case(CaseError::WrongStep(_))
            | AppError::Case(CaseError::VideoNotAllowed)
            | AppError::Case(CaseError::MethodFixed(_))
            | AppError::Case(CaseError::RecordingAwaited)
            | AppError::Case(CaseError::AlreadyScheduled)
            | AppError::Case(CaseError::NotScheduled(_))
            | AppError::Case(CaseError::NotHeldYet)
            | AppError::Case(CaseError::FindingsAwaited(_))
            | AppError::Case(CaseError::NoOpenComments)
            | AppError::Case(CaseError::FindingsAlreadyRecorded)
            | AppError::Case(CaseError::RectificationAwaited)
            | AppError::Case(CaseError::NoRectification)
            | AppError::Case(CaseError::ChecklistInspection)
            | AppError::Case(CaseError::CommentsUnanswered(_)) => 409,
            AppError::Case(_) => 422,
            AppError::StaleVersion { .. } => 409,
            AppError::Unauthenticated => 401,
            AppError::Throttled { .. } | AppError::RateLimited { .. } => 429,
            AppError::TotpRequired => 401,
            AppError::TotpEnrolmentRequired => 403,
            AppError::Forbidden(_) => 403,
            AppError::Conflict { .. } => 409,
            AppError::TooLarge { .. } => 413,
            AppError::UnsupportedType { .. } => 415,
            AppError::Gone(_) => 410,
            AppError::Internal(_) | AppError::Store(_) => 500,
        }
    }

    /// Field errors for validation problems.
    pub fn fields(&self) -> Vec<FieldError> {
        match self {
            AppError::Invalid { fields, .. } => fields.clone(),
            AppError::Case(CaseError::InvalidForm(f)) | AppError::Case(CaseError::KeyMaterialsMissing(f)) => f.clone(),
            _ => vec![],
        }
    }

    /// A short Chinese title for people (the English detail is the Display text).
    pub fn title_zh(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "未找到",
            AppError::Invalid { .. } | AppError::Catalog(_) => "请求内容有误",
            AppError::Calendar(CalendarError::YearNotCovered(_)) => "该年度尚无节假日数据",
            AppError::Calendar(_) => "日历数据有误",
            AppError::Evaluation(e) => e.title_zh(),
            AppError::Case(CaseError::SecondCorrection) => "已一次性告知，不得再次要求补正",
            AppError::Case(CaseError::InvalidForm(_)) => "表单填写有误",
            AppError::Case(CaseError::MissingMaterials(_)) => "申请材料不齐全",
            AppError::Case(CaseError::KeyMaterialsMissing(_)) => "关键材料未提交，不能申请",
            AppError::Case(CaseError::Forbidden(_)) | AppError::Forbidden(_) => "无权进行此操作",
            AppError::Case(CaseError::Calendar(CalendarError::YearNotCovered(_))) => "该年度尚无节假日数据",
            AppError::Case(CaseError::Calendar(_)) => "日历数据有误",
            AppError::Case(CaseError::CorrectionTooLate) => "已超过五个工作日，不得再要求补正（依法视为受理）",
            AppError::Case(CaseError::KeyMaterialPledged(_)) => "关键材料不可容缺受理",
            AppError::Case(CaseError::VideoNotAllowed) => "该勘验环节不支持视频勘验",
            AppError::Case(CaseError::UnknownVideo(_)) => "办件中没有该视频",
            AppError::Case(CaseError::BadTimestamp(_)) => "时间点不在视频范围内",
            AppError::Case(CaseError::UnknownChecklistItem(_)) => "勘验清单中没有该项",
            AppError::Case(CaseError::MethodFixed(_)) => "勘验方式已确定，不能更改",
            AppError::Case(CaseError::RecordingAwaited) => "请等待申请人上传新的视频",
            AppError::Case(CaseError::BadSlot(_)) => "勘验时段不可用（须为将来工作日的办公时间内）",
            AppError::Case(CaseError::AlreadyScheduled) => "该勘验已预约",
            AppError::Case(CaseError::NotScheduled(_)) => "尚未预约该勘验",
            AppError::Case(CaseError::NotHeldYet) => "勘验尚未开始，不能记录勘验意见",
            AppError::Case(CaseError::NotJoinable) => "该事项的勘验不能联合踏勘",
            AppError::Case(CaseError::FindingsAwaited(_)) => "仍有部门未记录勘验意见",
            AppError::Case(CaseError::ChecklistEntries { .. }) => "验收清单项有误（不存在、不属本次核查或缺项）",
            AppError::Case(CaseError::ChecklistNotYours(_)) => "不能记录其他部门的验收清单项",
            AppError::Case(CaseError::ChecklistNoteMissing(_)) => "不合格的清单项须填写说明",
            AppError::Case(CaseError::SatisfiedMismatch) => "结论与清单结果不一致",
            AppError::Case(CaseError::FindingsAlreadyRecorded) => "本部门本次验收意见已记录，不能重复记录",
            AppError::Case(CaseError::RectificationAwaited) => "等待申请人整改完成",
            AppError::Case(CaseError::NoRectification) => "该办件没有待整改事项",
            AppError::Case(CaseError::ChecklistInspection) => {
                "按清单验收：各部门记录清单结果，由牵头部门出具联合验收结果"
            }
            AppError::Case(CaseError::TooLong { .. }) => "内容过长",
            AppError::Case(CaseError::UnknownSheet(_)) => "办件的图纸材料中没有该文件",
            AppError::Case(CaseError::UnknownComment(_)) => "没有该条待回复的审查意见（不存在、已回复或重复回复）",
            AppError::Case(CaseError::CommentsUnanswered(_)) => "仍有审查意见等待申请人回复",
            AppError::Case(CaseError::NoOpenComments) => "审查意见已全部回复，不能再次回复",
            AppError::Case(CaseError::AnswersMissing(_)) => "每条待回复的审查意见都须回复",
            AppError::Case(CaseError::Empty(_)) => "必填内容为空",
            AppError::Case(_) => "当前状态下不能进行此操作",
            AppError::StaleVersion { .. } => "办件已被他人更新，请刷新后重试",
            AppError::Unauthenticated => "请先登录",
            AppError::Throttled { .. } => "登录失败次数过多，请稍后再试",
            AppError::RateLimited { .. } => "请求过于频繁，请稍后再试",
            AppError::TotpRequired => "请输入身份验证器上的动态验证码",
            AppError::TotpEnrolmentRequired => "请先绑定身份验证器（双因素认证）",
            AppError::Conflict { title_zh, .. } => title_zh,
            AppError::TooLarge { .. } => "文件过大",
            AppError::UnsupportedType { .. } => "文件类型不支持",
            AppError::Gone(_) => "已过期或已删除",
            AppError::Internal(_) | AppError::Store(_) => "系统内部错误",
        }
    }
}

/// The domain's refusals of commands on urgings, alerts, licences and liaison become `Invalid` with their stable
/// codes (answered 422, as before the events were typed).
macro_rules! invalid_from {
    ($($t:ty),*) => {$(
        impl From<$t> for AppError {
            fn from(e: $t) -> AppError {
                AppError::invalid(e.code(), e.to_string())
            }
        }
    )*};
}

invalid_from!(
    oneseal_domain::urging::UrgingError,
    oneseal_domain::supervision::AlertError,
    oneseal_domain::license::LicenseError,
    oneseal_domain::liaison::LiaisonError,
    oneseal_domain::shipment::ShipmentError,
    oneseal_domain::project::ProjectError,
    oneseal_domain::project::ProjectCodeError
);
