package views

import "testing"

func TestPaths(t *testing.T) {
	tests := map[string]string{
		ArticlePath(42):        "/articles/42/",
		ArticleUpdatePath(42):  "/articles/42/update/",
		ArticleDeletePath(42):  "/articles/42/delete/",
		LoginPath(""):          "/accounts/login/",
		LoginPath("/a/?b=c&d"): "/accounts/login/?next=%2Fa%2F%3Fb%3Dc%26d",
	}
	for got, want := range tests {
		if got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}
