//! Pure rules: what a command does to a card, without I/O.

mod antifraud;
mod lottery;
mod reversal;
mod stamping;
mod validate;

pub use antifraud::check_fraud;
pub use lottery::draw;
pub use reversal::{ReversalPlan, plan_reversal};
pub use stamping::{Added, add_stamps, new_voucher as new_voucher_pub};
pub use validate::{
    MAX_STAMPS_PER_REQUEST, MAX_TEXT, displayable_name, text as validate_text, validate_customer,
    validate_template, validate_voucher,
};
