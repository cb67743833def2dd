package views

import (
	"context"
	"strings"
	"sync"

	"gatehouse/models"
)

// Entries are the index entries of some articles rendered ahead, as their
// author sees them (Own, with a delete button) and as anyone else does.
type Entries struct {
	Own, Others []string
}

// ArticleEntries renders the index entries of articles for ArticleListOf,
// taking from rendered those it has already (nil: none). It reads nothing
// from the request.
func ArticleEntries(ctx context.Context, articles []models.Article, rendered *RenderedEntries) (*Entries, error) {
	e := &Entries{Own: make([]string, len(articles)), Others: make([]string, len(articles))}
	for i := range articles {
		entry, err := rendered.entry(ctx, &articles[i])
		if err != nil {
			return nil, err
		}
		e.Own[i], e.Others[i] = entry[0], entry[1]
	}
	return e, nil
}

// entryKey is everything of an article its index entry shows (articleItem
// reads nothing else; TestEntryKeyHoldsWhatTheEntryShows checks): articles
// with the same key have the same entries, so a rendered entry is kept by
// what it shows and never goes stale.
type entryKey struct {
	id        int64
	title     string
	author    string
	createdAt int64 // Unix nanoseconds
}

func articleEntryKey(a *models.Article) entryKey {
	return entryKey{id: a.ID, title: a.Title, author: a.Author.Username, createdAt: a.CreatedAt.UnixNano()}
}

// renderedEntriesLimit bounds how many articles' entries RenderedEntries
// keeps: a few index pages' worth.
const renderedEntriesLimit = 500

// RenderedEntries keeps the index entries last rendered, by what they show:
// after an article is written, the index pages it moves are loaded again,
// and all their other entries are rendered already.
type RenderedEntries struct {
	mu      sync.Mutex
	entries map[entryKey][2]string // as the author sees it, as others do
}

// NewRenderedEntries returns an empty RenderedEntries.
func NewRenderedEntries() *RenderedEntries {
	return &RenderedEntries{entries: make(map[entryKey][2]string)}
}

// entry returns the article's entries, rendered now unless kept already.
func (r *RenderedEntries) entry(ctx context.Context, a *models.Article) ([2]string, error) {
	key := articleEntryKey(a)
	if r != nil {
		r.mu.Lock()
		entry, found := r.entries[key]
		r.mu.Unlock()
		if found {
			return entry, nil
		}
	}
	var entry [2]string
	var b strings.Builder
	for i, own := range []bool{true, false} {
		b.Reset()
		if err := articleItem(a, own).Render(ctx, &b); err != nil {
			return entry, err
		}
		entry[i] = b.String()
	}
	if r != nil {
		r.mu.Lock()
		if len(r.entries) >= renderedEntriesLimit {
			clear(r.entries)
		}
		r.entries[key] = entry
		r.mu.Unlock()
	}
	return entry, nil
}
