//! Keyset pagination: a page size and the id of the last item already seen.

use uuid::Uuid;

/// The largest page a client may ask for.
pub const MAX_PAGE_SIZE: u64 = 100;
/// The page size when the client does not say.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// Which page to read: at most `limit` items after the item `after` in the list's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1..=100.
    pub limit: u64,
    /// The id of the last item of the previous page.
    pub after: Option<Uuid>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: DEFAULT_PAGE_SIZE,
            after: None,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// The id to continue after, when more items follow.
    pub next_after: Option<Uuid>,
}

impl<T> Page<T> {
    /// Builds a page from up to `limit + 1` items read from the store: the extra item, when
    /// present, only proves that another page follows.
    #[must_use]
    pub fn from_overfetched(mut items: Vec<T>, limit: u64, id_of: impl Fn(&T) -> Uuid) -> Self {
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let more = items.len() > limit;
        items.truncate(limit);
        let next_after = if more { items.last().map(id_of) } else { None };
        Self { items, next_after }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extra_item_means_another_page_follows() {
        let ids: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
        let page = Page::from_overfetched(ids.clone(), 2, |id| *id);
        assert_eq!(page.items, ids[..2]);
        assert_eq!(page.next_after, Some(ids[1]));
    }

    #[test]
    fn the_last_page_has_no_continuation() {
        let ids: Vec<Uuid> = (0..2).map(|_| Uuid::now_v7()).collect();
        let page = Page::from_overfetched(ids, 2, |id| *id);
        assert_eq!(page.next_after, None);
    }
}
