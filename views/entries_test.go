package views

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"gatehouse/models"
)

// entryArticle is an article with every field of it and its author set.
func entryArticle() *models.Article {
	at := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	return &models.Article{
		ID: 7, Title: "Title", Content: "Content", AuthorID: 3, CreatedAt: at, UpdatedAt: at,
		Author: &models.User{
			ID: 3, Username: "alice", UsernameKey: "alice", Password: "hash", Email: "alice@example.com",
			FirstName: "Alice", LastName: "Liddell", IsActive: true, LastLogin: at, DateJoined: at,
		},
	}
}

// changeField gives v another value of its kind; false if it cannot.
func changeField(v reflect.Value) bool {
	if !v.CanSet() {
		return false
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + " changed")
	case reflect.Int, reflect.Int64:
		v.SetInt(v.Int() + 1)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	default:
		if t, ok := v.Interface().(time.Time); ok {
			v.Set(reflect.ValueOf(t.Add(time.Hour)))
			return true
		}
		return false
	}
	return true
}

// TestEntryKeyHoldsWhatTheEntryShows changes each field of an article and
// of its author, one at a time: whenever the rendered entries change, the
// key RenderedEntries keeps them by must change too, or it would serve an
// entry that no longer shows the article as it is.
func TestEntryKeyHoldsWhatTheEntryShows(t *testing.T) {
	ctx := context.Background()
	render := func(a *models.Article) [2]string {
		t.Helper()
		entry, err := (*RenderedEntries)(nil).entry(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return entry
	}
	base := render(entryArticle())
	shown := 0
	for _, of := range []string{"article", "author"} {
		fields := reflect.TypeOf(models.Article{})
		if of == "author" {
			fields = reflect.TypeOf(models.User{})
		}
		for i := range fields.NumField() {
			a := entryArticle()
			v := reflect.ValueOf(a).Elem()
			if of == "author" {
				v = reflect.ValueOf(a.Author).Elem()
			}
			if !changeField(v.Field(i)) {
				continue
			}
			if render(a) == base {
				continue
			}
			shown++
			if articleEntryKey(a) == articleEntryKey(entryArticle()) {
				t.Errorf("the entry shows the %s's %s, which its key leaves out", of, fields.Field(i).Name)
			}
		}
	}
	if shown < 4 {
		t.Errorf("only %d fields change the entry: the test changes too little", shown)
	}
}

// TestRenderedEntriesServeWhatWasRendered renders a page of entries twice
// through one RenderedEntries, the second time with one article renamed:
// the renamed one is rendered afresh, the other served as it was.
func TestRenderedEntriesServeWhatWasRendered(t *testing.T) {
	ctx := context.Background()
	rendered := NewRenderedEntries()
	first, second := *entryArticle(), *entryArticle()
	second.ID, second.Title = 8, "Second"
	before, err := ArticleEntries(ctx, []models.Article{first, second}, rendered)
	if err != nil {
		t.Fatal(err)
	}
	second.Title = "Renamed"
	after, err := ArticleEntries(ctx, []models.Article{first, second}, rendered)
	if err != nil {
		t.Fatal(err)
	}
	if after.Own[0] != before.Own[0] || after.Others[0] != before.Others[0] {
		t.Error("the unchanged article's entries differ")
	}
	fresh, err := ArticleEntries(ctx, []models.Article{second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if after.Own[1] != fresh.Own[0] || after.Others[1] != fresh.Others[0] {
		t.Errorf("the renamed article's entries are not rendered afresh: %q", after.Others[1])
	}
}

// TestRenderedEntriesByLanguage renders the same article's entries through
// one RenderedEntries for readers of each language in turn: each gets them
// in their own language, never those kept for a reader of another.
func TestRenderedEntriesByLanguage(t *testing.T) {
	rendered := NewRenderedEntries()
	articles := []models.Article{*entryArticle()}
	want := map[string][]string{
		"en": {"by <bdi", `aria-label="Edit “Title”"`, ">Delete</button>", "30 Nov 2026, 12:00 UTC"},
		"ko": {"작성자 <bdi", `aria-label="“Title” 수정"`, ">삭제</button>", "2026년 11월 30일 12:00 UTC"},
	}
	for _, code := range []string{"en", "ko", "en", "ko"} {
		e, err := ArticleEntries(inLanguage(code), articles, rendered)
		if err != nil {
			t.Fatal(err)
		}
		for _, words := range want[code] {
			if !strings.Contains(e.Own[0], words) {
				t.Errorf("%s: the author's entry lacks %q: %s", code, words, e.Own[0])
			}
		}
		if !strings.Contains(e.Others[0], want[code][0]) || strings.Contains(e.Others[0], "article-delete") {
			t.Errorf("%s: the others' entry: %s", code, e.Others[0])
		}
	}
	if len(rendered.entries) != 2 {
		t.Errorf("%d entries kept, want one a language", len(rendered.entries))
	}
}
