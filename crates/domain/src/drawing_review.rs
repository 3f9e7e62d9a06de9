//! 多图联审: each reviewing department's comments (审查意见) pinned to a sheet of the one drawing set, and the
//! applicant's one answer (意见回复) to all of them at once, with revised drawings uploaded once.
//!
//! Comments and answers are events on the case stream (`drawing_comment_added`, `drawing_comments_answered`),
//! checked here and folded into [`CaseState::drawing_review`]. A department passes by completing its joint-review
//! task, which it cannot do while one of its comments waits for the applicant's answer; when every department has
//! passed, the step completes and the consolidated result is decided, issued and sealed as before.

use serde::{Deserialize, Serialize};

use crate::case::{CaseError, CaseEvent, CaseState, CurrentStep, MaterialRef, Status, TaskStatus};
use crate::catalog::StepKind;
use crate::ids::DepartmentId;
use crate::roles::Actor;

/// The longest comment or answer, in characters.
pub const MAX_TEXT: usize = 2000;
/// The longest sheet label (图号), in characters.
pub const MAX_SHEET: usize = 50;

/// One department's comment (审查意见) on one sheet of the drawing set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawingComment {
    /// `c1`, `c2`, … in the order they were made on the case.
    pub comment_id: String,
    pub department: DepartmentId,
    /// The material (a file of the drawing set) the comment refers to.
    pub material_id: String,
    /// The sheet within it (图号, e.g. `建施-03`).
    pub sheet: String,
    pub text: String,
    pub by: String,
    /// The review round: 1 before the applicant's first answer, 2 after it, …
    pub round: u32,
}

/// The applicant's answer to one comment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawingAnswer {
    pub comment_id: String,
    pub text: String,
}

/// A comment with its answer, as folded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentRecord {
    #[serde(flatten)]
    pub comment: DrawingComment,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answer: Option<String>,
}

/// Every comment of the drawing review and how many times the applicant has answered.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawingReview {
    pub comments: Vec<CommentRecord>,
    pub answers_given: u32,
}

impl DrawingReview {
    /// Comments still waiting for the applicant's answer.
    pub fn open(&self) -> impl Iterator<Item = &CommentRecord> {
        self.comments.iter().filter(|c| c.answer.is_none())
    }
}

/// The current step when the case is in progress at a joint-review step.
fn joint_step<'a>(state: &'a CaseState, action: &'static str) -> Result<&'a CurrentStep, CaseError> {
    let step = match (&state.current_step, state.status) {
        (Some(s), Status::InProgress) => s,
        _ => return Err(CaseError::WrongStatus { status: state.status.as_str(), action }),
    };
    if step.kind != StepKind::JointReview {
        return Err(CaseError::WrongStep(step.kind));
    }
    Ok(step)
}

fn text_ok(text: &str, what: &'static str, max: usize) -> Result<(), CaseError> {
    if text.trim().is_empty() {
        return Err(CaseError::Empty(what));
    }
    if text.chars().count() > max {
        return Err(CaseError::TooLong { what, max });
    }
    Ok(())
}

/// A reviewer's comment: only a reviewer of a department whose task on the joint review is still open, on a
/// material the case has.
pub fn add_comment(
    state: &CaseState,
    actor: &Actor,
    material_id: String,
    sheet: String,
    text: String,
) -> Result<Vec<CaseEvent>, CaseError> {
    let step = joint_step(state, "drawing_comment")?;
    let Some(task) =
        step.tasks.iter().find(|t| t.status == TaskStatus::Open && actor.can_work(t.role, t.department.as_ref()))
    else {
        return Err(CaseError::Forbidden("reviewer of a department with an open review task"));
    };
    let department = task.department.clone().unwrap_or_else(|| state.department.clone());
    text_ok(&text, "text", MAX_TEXT)?;
    text_ok(&sheet, "sheet", MAX_SHEET)?;
    if !state.materials.iter().any(|m| m.material_id == material_id && m.attachment.is_some()) {
        return Err(CaseError::UnknownSheet(material_id));
    }
    let review = state.drawing_review.clone().unwrap_or_default();
    let comment = DrawingComment {
        comment_id: format!("c{}", review.comments.len() + 1),
        department,
        material_id,
        sheet: sheet.trim().to_string(),
        text: text.trim().to_string(),
        by: actor.id.clone(),
        round: review.answers_given + 1,
    };
    Ok(vec![CaseEvent::DrawingCommentAdded { comment }])
}

/// The applicant's one answer: exactly one non-empty answer for every open comment, with the revised drawings.
pub fn answer(
    state: &CaseState,
    answers: Vec<DrawingAnswer>,
    materials: Vec<MaterialRef>,
) -> Result<Vec<CaseEvent>, CaseError> {
    joint_step(state, "answer_drawing_comments")?;
    let review = state.drawing_review.clone().unwrap_or_default();
    let open: Vec<&str> = review.open().map(|c| c.comment.comment_id.as_str()).collect();
    if open.is_empty() {
        return Err(CaseError::NoOpenComments);
    }
    let mut seen = std::collections::BTreeSet::new();
    for a in &answers {
        if !open.contains(&a.comment_id.as_str()) || !seen.insert(a.comment_id.as_str()) {
            return Err(CaseError::UnknownComment(a.comment_id.clone()));
        }
        text_ok(&a.text, "answer", MAX_TEXT)?;
    }
    let missing: Vec<String> = open.iter().filter(|id| !seen.contains(*id)).map(|id| id.to_string()).collect();
    if !missing.is_empty() {
        return Err(CaseError::AnswersMissing(missing));
    }
    let answers = answers.into_iter().map(|a| DrawingAnswer { text: a.text.trim().to_string(), ..a }).collect();
    Ok(vec![CaseEvent::DrawingCommentsAnswered { answers, materials }])
}

/// A department cannot pass while one of its comments waits for the applicant's answer.
pub fn check_pass(state: &CaseState, department: Option<&DepartmentId>) -> Result<(), CaseError> {
    let Some(review) = &state.drawing_review else { return Ok(()) };
    let open: Vec<String> = review
        .open()
        .filter(|c| department.is_none_or(|d| &c.comment.department == d))
        .map(|c| c.comment.comment_id.clone())
        .collect();
    if open.is_empty() {
        Ok(())
    } else {
        Err(CaseError::CommentsUnanswered(open))
    }
}

/// Fold a comment or an answer into the state.
pub fn apply(state: &mut CaseState, event: &CaseEvent) {
    match event {
        CaseEvent::DrawingCommentAdded { comment } => {
            state
                .drawing_review
                .get_or_insert_with(DrawingReview::default)
                .comments
                .push(CommentRecord { comment: comment.clone(), answer: None });
        }
        CaseEvent::DrawingCommentsAnswered { answers, materials } => {
            let review = state.drawing_review.get_or_insert_with(DrawingReview::default);
            review.answers_given += 1;
            for a in answers {
                if let Some(c) = review.comments.iter_mut().find(|c| c.comment.comment_id == a.comment_id) {
                    c.answer = Some(a.text.clone());
                }
            }
            for m in materials {
                state.materials.retain(|x| x.material_id != m.material_id);
                state.materials.push(m.clone());
            }
        }
        _ => {}
    }
}
