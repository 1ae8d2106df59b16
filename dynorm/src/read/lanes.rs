//! The state of a read in progress: one lane per sequence of pages (the read itself, or
//! each segment of a parallel scan), the items read and not yet yielded, and the
//! position after the last item yielded. Not generic: items stay raw until the stream
//! decodes them.

use std::collections::VecDeque;
use std::task::{Context, Poll};

use aws_sdk_dynamodb::types::AttributeValue;
use futures::future::BoxFuture;

use super::cursor::{self, Position};
use super::plan::{Page, PageRequest, ReadPlan};
use crate::error::{CursorProblem, Error, Result};
use crate::value::Item;

/// Requests in flight at once, across the segments of a parallel scan.
const MAX_IN_FLIGHT: usize = 16;

/// One sequence of pages: the read itself, or one segment of a parallel scan.
struct Lane<'a> {
    /// Where the next request starts.
    position: Position,
    /// Where a resumed read starts: after the last item yielded.
    resume: Position,
    /// This lane's items in the buffer.
    buffered: usize,
    /// Items DynamoDB evaluated in this run, against `limit`.
    evaluated: usize,
    /// Whether this run made a request.
    requested: bool,
    pending: Option<BoxFuture<'a, Result<Page>>>,
}

impl Lane<'_> {
    fn at(position: Position) -> Self {
        Lane {
            resume: position.clone(),
            position,
            buffered: 0,
            evaluated: 0,
            requested: false,
            pending: None,
        }
    }
}

/// The lanes of a read, and its items not yet yielded.
#[derive(Default)]
pub(crate) struct Lanes<'a> {
    lanes: Vec<Lane<'a>>,
    buffer: VecDeque<(usize, Item)>,
    halted: bool,
}

impl<'a> Lanes<'a> {
    /// Forgets where the read is: an option that changes what is read starts it afresh.
    pub(crate) fn restart(&mut self) {
        self.lanes.clear();
        self.buffer.clear();
        self.halted = false;
    }

    /// The same read again: from where it stopped (after the last item yielded), or from
    /// the start when it had reached the end.
    pub(crate) fn again(&mut self) {
        self.halted = false;
        if self.lanes.is_empty() {
            return;
        }
        let finished = self.lanes.iter().all(|l| l.resume == Position::End);
        for lane in &mut self.lanes {
            let position = if finished { Position::Start } else { lane.resume.clone() };
            *lane = Lane::at(position);
        }
        self.buffer.clear();
    }

    /// The key after the last item yielded, for a read of one lane.
    pub(crate) fn last(&self) -> Option<&Item> {
        match self.lanes.as_slice() {
            [lane] => match &lane.resume {
                Position::After(key) => Some(key),
                _ => None,
            },
            _ => None,
        }
    }

    /// Where each lane resumes; `None` before the read started.
    pub(crate) fn positions(&self) -> Option<Vec<Position>> {
        (!self.lanes.is_empty()).then(|| self.lanes.iter().map(|l| l.resume.clone()).collect())
    }

    /// Sets the lanes up on first use: from the cursor, or from the start.
    fn init(&mut self, plan: &mut ReadPlan<'a>) -> Result<()> {
        if !self.lanes.is_empty() {
            return Ok(());
        }
        plan.check()?;
        let positions = match &plan.resume {
            Some(text) => {
                let key = cursor::signing_key(plan.db)?;
                let positions = cursor::decode(&key, &cursor::fingerprint(plan)?, text, plan.lane_count())?;
                // A start key must be exactly this read's key attributes.
                let well_formed = positions.iter().all(|p| match p {
                    Position::After(item) => {
                        item.len() == plan.key_names.len() && plan.key_names.iter().all(|n| item.contains_key(*n))
                    }
                    _ => true,
                });
                if !well_formed {
                    return Err(Error::InvalidCursor(CursorProblem::OtherQuery));
                }
                positions
            }
            None => vec![Position::Start; plan.lane_count()],
        };
        plan.resume = None;
        self.lanes = positions.into_iter().map(Lane::at).collect();
        Ok(())
    }

    fn wants_page(plan: &ReadPlan<'_>, lane: &Lane<'_>) -> bool {
        let limit_left = plan.limit.is_none_or(|l| lane.evaluated < l);
        lane.pending.is_none()
            && lane.buffered == 0
            && lane.position != Position::End
            && limit_left
            && (!lane.requested || plan.recursive)
    }

    /// The request for the next page of lane `index`: the page size, capped by what is
    /// left of `limit`, from the lane's position.
    fn page_request(plan: &ReadPlan<'_>, index: usize, lane: &Lane<'_>, count: bool) -> PageRequest {
        let remaining = plan.limit.map(|l| l.saturating_sub(lane.evaluated));
        let limit = match (remaining, plan.page_size) {
            (Some(r), Some(p)) => Some(r.min(p)),
            (r, p) => r.or(p),
        };
        PageRequest {
            lane: index,
            limit: limit.map(|l| i32::try_from(l).unwrap_or(i32::MAX)),
            start: match &lane.position {
                Position::Start => plan.start.clone(),
                Position::After(key) => Some(key.clone()),
                Position::End => None,
            },
            count,
        }
    }

    /// The request of a first page, after the client-side checks (for `to_input`).
    pub(crate) fn first_request(plan: &ReadPlan<'_>) -> Result<PageRequest> {
        plan.check()?;
        Ok(Self::page_request(plan, 0, &Lane::at(Position::Start), false))
    }

    /// Takes a page into the lane's state; returns its items.
    fn absorb(&mut self, index: usize, page: Page) -> (Vec<Item>, usize) {
        let lane = &mut self.lanes[index];
        lane.requested = true;
        lane.evaluated += page.scanned;
        lane.position = match page.last {
            Some(key) => Position::After(key),
            None => Position::End,
        };
        lane.buffered += page.items.len();
        if page.items.is_empty() {
            lane.resume = lane.position.clone();
        }
        (page.items, page.count)
    }

    /// Counts the matching items (`Select = COUNT`), over one request per lane, or every
    /// page when the read is recursive, from where the read is.
    pub(crate) async fn count(mut self, mut plan: ReadPlan<'a>) -> Result<usize> {
        for lane in &mut self.lanes {
            *lane = Lane::at(lane.resume.clone());
        }
        self.buffer.clear();
        self.init(&mut plan)?;
        let mut total = 0;
        loop {
            let wanted: Vec<usize> = (0..self.lanes.len())
                .filter(|&i| Self::wants_page(&plan, &self.lanes[i]))
                .take(MAX_IN_FLIGHT)
                .collect();
            if wanted.is_empty() {
                return Ok(total);
            }
            let requests = wanted
                .iter()
                .map(|&i| plan.request(Self::page_request(&plan, i, &self.lanes[i], true)))
                .collect::<Result<Vec<_>>>()?;
            let pages = futures::future::try_join_all(requests).await?;
            for (i, page) in wanted.into_iter().zip(pages) {
                total += self.absorb(i, page).1;
            }
        }
    }

    /// The next raw item of the read: keeps every lane busy (a lane whose items were all
    /// yielded asks for its next page while the others' items are still consumed), and
    /// moves the lane's position past the item it yields.
    pub(crate) fn poll_item(&mut self, plan: &mut ReadPlan<'a>, cx: &mut Context<'_>) -> Poll<Option<Result<Item>>> {
        loop {
            let mut waiting = false;
            if !self.halted {
                if let Err(err) = self.init(plan) {
                    return Poll::Ready(Some(Err(self.halt(err))));
                }
                let mut in_flight = self.lanes.iter().filter(|l| l.pending.is_some()).count();
                for i in 0..self.lanes.len() {
                    if in_flight >= MAX_IN_FLIGHT {
                        break;
                    }
                    if Self::wants_page(plan, &self.lanes[i]) {
                        match plan.request(Self::page_request(plan, i, &self.lanes[i], false)) {
                            Ok(future) => self.lanes[i].pending = Some(future),
                            Err(err) => return Poll::Ready(Some(Err(self.halt(err)))),
                        }
                        in_flight += 1;
                    }
                }
                for i in 0..self.lanes.len() {
                    let Some(pending) = self.lanes[i].pending.as_mut() else {
                        continue;
                    };
                    match pending.as_mut().poll(cx) {
                        Poll::Pending => waiting = true,
                        Poll::Ready(result) => {
                            self.lanes[i].pending = None;
                            match result {
                                Ok(page) => {
                                    let (items, _) = self.absorb(i, page);
                                    self.buffer.extend(items.into_iter().map(|item| (i, item)));
                                }
                                Err(err) => return Poll::Ready(Some(Err(self.halt(err)))),
                            }
                        }
                    }
                }
            }
            if let Some((index, item)) = self.buffer.pop_front() {
                let key_names = &plan.key_names;
                let lane = &mut self.lanes[index];
                lane.buffered -= 1;
                if lane.buffered == 0 {
                    lane.resume = lane.position.clone();
                } else if !overwrite_key(&mut lane.resume, key_names, &item) {
                    lane.resume = Position::After(
                        key_names
                            .iter()
                            .filter_map(|n| item.get(*n).map(|v| ((*n).to_owned(), v.clone())))
                            .collect(),
                    );
                }
                return Poll::Ready(Some(Ok(item)));
            }
            if self.halted {
                return Poll::Ready(None);
            }
            if waiting {
                return Poll::Pending;
            }
            if !self.lanes.iter().any(|l| Self::wants_page(plan, l)) {
                return Poll::Ready(None);
            }
        }
    }

    /// Stops the read after an error: requests in flight are dropped, and the lanes keep
    /// their positions, so `again` reads those pages again.
    fn halt(&mut self, err: Error) -> Error {
        self.halted = true;
        for lane in &mut self.lanes {
            lane.pending = None;
        }
        err
    }
}

/// Writes `item`'s key into the key held in `resume`, reusing its map and strings: the
/// position after each item yielded is kept without allocating per item. Returns
/// `false` when `resume` holds no key of these attributes, or `item` lacks one.
fn overwrite_key(resume: &mut Position, key_names: &[&'static str], item: &Item) -> bool {
    let Position::After(key) = resume else {
        return false;
    };
    if key.len() != key_names.len() {
        return false;
    }
    // On `false` the caller rebuilds the whole key, so a partial overwrite is harmless.
    for name in key_names {
        let (Some(slot), Some(value)) = (key.get_mut(*name), item.get(*name)) else {
            return false;
        };
        match (slot, value) {
            (AttributeValue::S(old), AttributeValue::S(new)) => old.clone_from(new),
            (AttributeValue::N(old), AttributeValue::N(new)) => old.clone_from(new),
            (slot, value) => *slot = value.clone(),
        }
    }
    true
}
