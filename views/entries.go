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

// ArticleEntries renders the index entries of articles for ArticleListOf
// in the language of ctx, taking from rendered those it has already (nil:
// none). It reads nothing else from the request.
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

// RenderedEntries keeps the index entries last rendered, by what they show
// and the language they say it in: after an article is written, the index
// pages it moves are loaded again, and all their other entries are
// rendered already. An entry rendered for a reader of one language is
// never served to a reader of another.
type RenderedEntries struct {
	mu      sync.Mutex
	entries map[renderedKey][2]string // as the author sees it, as others do
}

// renderedKey is an entry's key in RenderedEntries: what it shows, in
// which language.
type renderedKey struct {
	entryKey
	language *Language
}

// NewRenderedEntries returns an empty RenderedEntries.
func NewRenderedEntries() *RenderedEntries {
	return &RenderedEntries{entries: make(map[renderedKey][2]string)}
}

// entry returns the article's entries in the language of ctx, rendered now
// unless kept already.
func (r *RenderedEntries) entry(ctx context.Context, a *models.Article) ([2]string, error) {
	key := renderedKey{articleEntryKey(a), LanguageOf(ctx)}
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
