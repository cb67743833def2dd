package main

import (
	"slices"
	"strings"

	"gatehouse/models/social"
)

// socialProviders reads the sites people may log in with from the
// environment: GATEHOUSE_SOCIAL_<NAME>_CLIENT_ID and _CLIENT_SECRET, and
// _ISSUER and _LABEL where needed (Google and Kakao know their issuer; Naver
// and GitHub their endpoints, which _AUTH_URL, _TOKEN_URL and
// _USERINFO_URL override). The
// built-in ones come first, then the others by name.
func socialProviders(environ []string) []social.Provider {
	const prefix, suffix = "GATEHOUSE_SOCIAL_", "_CLIENT_ID"
	env := map[string]string{}
	var names []string
	for _, kv := range environ {
		key, value, _ := strings.Cut(kv, "=")
		env[key] = value
		if strings.HasPrefix(key, prefix) && strings.HasSuffix(key, suffix) && len(key) > len(prefix)+len(suffix) {
			names = append(names, key[len(prefix):len(key)-len(suffix)])
		}
	}
	rank := func(name string) int {
		if i := slices.Index([]string{"GOOGLE", "KAKAO", "NAVER", "GITHUB"}, name); i >= 0 {
			return i
		}
		return 4
	}
	slices.SortFunc(names, func(a, b string) int {
		if rank(a) != rank(b) {
			return rank(a) - rank(b)
		}
		return strings.Compare(a, b)
	})
	var providers []social.Provider
	for _, name := range names {
		v := func(field string) string { return env[prefix+name+"_"+field] }
		providers = append(providers, social.Provider{
			Name: strings.ToLower(name), Label: v("LABEL"),
			ClientID: v("CLIENT_ID"), ClientSecret: v("CLIENT_SECRET"), Issuer: v("ISSUER"),
			AuthURL: v("AUTH_URL"), TokenURL: v("TOKEN_URL"), UserInfoURL: v("USERINFO_URL"),
		})
	}
	return providers
}
