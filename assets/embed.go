// Package assets embeds Gatehouse's static files and names each by a hash of
// its content, so browsers may cache them for a year.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
)

//go:embed htmx.min.js app.css app.js passkey.js favicon.svg
var files embed.FS

// File is one static file, ready to serve.
type File struct {
	Body        []byte
	ContentType string
}

var (
	byHashedName = map[string]File{}
	hashedNames  = map[string]string{}
)

func init() {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err)
	}
	for _, entry := range entries {
		name := entry.Name()
		body, err := files.ReadFile(name)
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(name)
		hashed := strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:6]) + ext
		hashedNames[name] = hashed
		byHashedName[hashed] = File{Body: body, ContentType: mime.TypeByExtension(ext)}
	}
}

// URL returns the path that serves name, with its content hash in it.
func URL(name string) string {
	hashed, ok := hashedNames[name]
	if !ok {
		panic("assets: no file named " + name)
	}
	return "/assets/" + hashed
}

// Lookup finds a file by its hashed name, as URL gave it.
func Lookup(hashedName string) (File, bool) {
	f, ok := byHashedName[hashedName]
	return f, ok
}
