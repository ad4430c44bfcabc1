//! Table columns as wide as their content: every column gets the width its
//! header and cells need when the screen has it; when it does not, only the
//! columns of free text (names, descriptions) give way, evenly, while ids,
//! codes, times and amounts are never cut.

use ratatui::layout::Constraint;
use ratatui::text::Line;

/// How a column may be narrowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Ids, codes, times, amounts: always whole.
    Keep,
    /// Free text: cut when the screen is too narrow for everything.
    Flex,
}

/// A column: its header and how it may be narrowed.
#[derive(Debug, Clone, Copy)]
pub struct Col(pub &'static str, pub Fit);

/// Space between two columns (ratatui's default).
const SPACING: usize = 1;
/// A free-text column keeps at least this much (or its whole content).
const FLEX_FLOOR: usize = 6;

fn width(text: &str) -> usize {
    Line::raw(text).width()
}

/// The widths of `cols` for `cells` in `space` columns of screen.
pub fn fit(cols: &[Col], cells: &[Vec<String>], space: u16) -> Vec<Constraint> {
    let need: Vec<usize> = cols
        .iter()
        .enumerate()
        .map(|(i, c)| {
            cells
                .iter()
                .filter_map(|row| row.get(i))
                .map(|s| width(s))
                .max()
                .unwrap_or(0)
                .max(width(c.0))
        })
        .collect();
    let avail = usize::from(space).saturating_sub(SPACING * cols.len().saturating_sub(1));
    let total: usize = need.iter().sum();
    if total <= avail {
        // Everything whole; the last column takes what is left.
        return need
            .iter()
            .enumerate()
            .map(|(i, n)| {
                if i + 1 == need.len() {
                    Constraint::Min(*n as u16)
                } else {
                    Constraint::Length(*n as u16)
                }
            })
            .collect();
    }
    let kept: usize = cols
        .iter()
        .zip(&need)
        .filter(|(c, _)| c.1 == Fit::Keep)
        .map(|(_, n)| n)
        .sum();
    let for_flex = avail.saturating_sub(kept);
    let floor = |n: usize| n.min(FLEX_FLOOR);
    // The largest cap at which the free-text columns fit.
    let flex: Vec<usize> = cols
        .iter()
        .zip(&need)
        .filter(|(c, _)| c.1 == Fit::Flex)
        .map(|(_, n)| *n)
        .collect();
    let used = |cap: usize| -> usize { flex.iter().map(|n| (*n).min(cap.max(floor(*n)))).sum() };
    let max_need = flex.iter().copied().max().unwrap_or(0);
    let mut cap = 0;
    for c in (0..=max_need).rev() {
        if used(c) <= for_flex {
            cap = c;
            break;
        }
    }
    cols.iter()
        .zip(&need)
        .map(|(c, n)| match c.1 {
            Fit::Keep => Constraint::Length(*n as u16),
            Fit::Flex => Constraint::Length((*n).min(cap.max(floor(*n))) as u16),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lengths(c: &[Constraint]) -> Vec<u16> {
        c.iter()
            .map(|c| match c {
                Constraint::Length(n) | Constraint::Min(n) => *n,
                _ => 0,
            })
            .collect()
    }

    #[test]
    fn whole_columns_when_there_is_room_and_only_free_text_gives_way() {
        let cols = [
            Col("ID", Fit::Keep),
            Col("Name", Fit::Flex),
            Col("Code", Fit::Keep),
        ];
        let cells = vec![vec![
            "7".to_string(),
            "A rather long customer name".to_string(),
            "2000000004803950027".to_string(),
        ]];
        assert_eq!(lengths(&fit(&cols, &cells, 80)), vec![2, 27, 19]);
        // 30 columns: the code stays whole, the name gives way.
        let narrow = lengths(&fit(&cols, &cells, 30));
        assert_eq!(narrow[2], 19);
        assert_eq!(narrow[0], 2);
        assert!(narrow.iter().sum::<u16>() + 2 <= 30, "{narrow:?}");
    }
}
