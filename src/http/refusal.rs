//! What became of a webhook: accepted, or refused for one reason, each with its HTTP
//! status and its label in `herald_events_total`.

use super::ApiError;
use axum::http::StatusCode;
use prometheus_client::encoding::{EncodeLabelValue, LabelValueEncoder};
use std::fmt::Write;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Refusal {
    NoSecret,
    WrongSecret,
    BadContentType,
    TooLarge,
    /// Bodies in flight already hold the memory they may.
    NoRoom,
    /// Cut to make room for others.
    Stalled,
    BadPayload,
    OverBudget,
    /// The database failed: the Hub retries on a 5xx.
    NotStored,
}

impl Refusal {
    pub fn status(self) -> StatusCode {
        match self {
            Refusal::NoSecret => StatusCode::UNAUTHORIZED,
            Refusal::WrongSecret => StatusCode::FORBIDDEN,
            Refusal::BadContentType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Refusal::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Refusal::NoRoom | Refusal::NotStored => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::Stalled => StatusCode::REQUEST_TIMEOUT,
            Refusal::BadPayload => StatusCode::BAD_REQUEST,
            Refusal::OverBudget => StatusCode::TOO_MANY_REQUESTS,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Refusal::NoSecret => "no_secret",
            Refusal::WrongSecret => "wrong_secret",
            Refusal::BadContentType => "bad_content_type",
            Refusal::TooLarge => "too_large",
            Refusal::NoRoom => "no_room",
            Refusal::Stalled => "stalled",
            Refusal::BadPayload => "bad_payload",
            Refusal::OverBudget => "over_budget",
            Refusal::NotStored => "not_stored",
        }
    }

    /// The client's answer: this refusal's status, and what to do about it.
    pub fn because(self, msg: impl Into<String>) -> Refused {
        Refused(self, msg.into())
    }
}

/// A refusal and the message the client reads.
#[derive(Debug)]
pub struct Refused(pub Refusal, pub String);

impl From<Refused> for ApiError {
    fn from(r: Refused) -> ApiError {
        ApiError::new(r.0.status(), r.1)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    Accepted,
    Refused(Refusal),
}

impl EncodeLabelValue for Outcome {
    fn encode(&self, out: &mut LabelValueEncoder) -> std::fmt::Result {
        out.write_str(match self {
            Outcome::Accepted => "accepted",
            Outcome::Refused(r) => r.label(),
        })
    }
}
