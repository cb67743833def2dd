package main

import (
	"reflect"
	"testing"

	"gatehouse/models/social"
)

func TestSocialProviders(t *testing.T) {
	got := socialProviders([]string{
		"PATH=/bin",
		"GATEHOUSE_SOCIAL_CORP_CLIENT_ID=c", "GATEHOUSE_SOCIAL_CORP_CLIENT_SECRET=cs",
		"GATEHOUSE_SOCIAL_CORP_ISSUER=https://idp.corp.example", "GATEHOUSE_SOCIAL_CORP_LABEL=Corp SSO",
		"GATEHOUSE_SOCIAL_KAKAO_CLIENT_ID=k", "GATEHOUSE_SOCIAL_KAKAO_CLIENT_SECRET=ks",
		"GATEHOUSE_SOCIAL_GOOGLE_CLIENT_ID=g", "GATEHOUSE_SOCIAL_GOOGLE_CLIENT_SECRET=gs",
		"GATEHOUSE_SOCIAL__CLIENT_ID=nameless",
	})
	want := []social.Provider{
		{Name: "google", ClientID: "g", ClientSecret: "gs"},
		{Name: "kakao", ClientID: "k", ClientSecret: "ks"},
		{Name: "corp", Label: "Corp SSO", ClientID: "c", ClientSecret: "cs", Issuer: "https://idp.corp.example"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("socialProviders = %+v\nwant %+v", got, want)
	}
}
