package web

import (
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"net/http"
	"path"
	"strings"

	"github.com/vigil-dev/vigil"
)

// uploadLimits bound what an upload may be and expand to.
type uploadLimits struct {
	MaxBytes        int64 // the file as sent
	MaxDecompressed int64 // a .gz or a .zip entry, once expanded
	MaxEntries      int   // entries in a .zip
}

func (s *Server) uploadLimits() uploadLimits {
	return uploadLimits{MaxBytes: s.opt.MaxUpload, MaxDecompressed: s.opt.MaxDecompressed, MaxEntries: s.opt.MaxZipEntries}
}

// readUpload returns the uploaded file of a request: the multipart field "file" (a browser form), or else the raw
// body (scripts: curl --data-binary @bom.json). name is the file name the client gave, for messages only.
func (s *Server) readUpload(w http.ResponseWriter, r *http.Request) (data []byte, name string, err error) {
	lim := s.uploadLimits()
	if isMultipart(r) {
		if r.MultipartForm == nil {
			r.Body = http.MaxBytesReader(w, r.Body, lim.MaxBytes+64<<10)
			if err := parseMultipart(r); err != nil {
				var mb *http.MaxBytesError
				if errors.As(err, &mb) {
					return nil, "", vigil.Errorf(vigil.EINVALID, "file: larger than %d MiB", lim.MaxBytes>>20)
				}
				return nil, "", vigil.Errorf(vigil.EINVALID, "form: %v", err)
			}
		}
		f, hdr, err := r.FormFile("file")
		if err != nil {
			return nil, "", vigil.Errorf(vigil.EINVALID, "file: choose a file to upload")
		}
		defer f.Close()
		data, err = readBounded(f, lim.MaxBytes, "file")
		return data, displayName(hdr.Filename), err
	}
	name = displayName(r.URL.Query().Get("name"))
	if name == "" {
		name = "upload"
	}
	data, err = readBounded(http.MaxBytesReader(w, r.Body, lim.MaxBytes+1), lim.MaxBytes, "body")
	return data, name, err
}

func readBounded(r io.Reader, max int64, field string) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	var mb *http.MaxBytesError
	if errors.As(err, &mb) || int64(len(b)) > max {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: larger than %d MiB", field, max>>20)
	}
	if err != nil {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: %v", field, err)
	}
	if len(b) == 0 {
		return nil, vigil.Errorf(vigil.EINVALID, "%s: empty", field)
	}
	return b, nil
}

// displayName keeps the base name of a client-supplied file name, clipped, for messages and provenance.
func displayName(s string) string {
	s = strings.ReplaceAll(s, "\\", "/")
	s = path.Base(s)
	if s == "." || s == "/" {
		return ""
	}
	return clipText(200, strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s))
}

// unwrap expands a gzip or zip upload into the one document it carries, within the limits: a .gz is read to at
// most MaxDecompressed bytes; a .zip may hold at most MaxEntries entries and exactly one file that is not a
// directory or macOS metadata, itself bounded when expanded (the size its header claims is not trusted). Anything
// else is returned as is.
func unwrap(b []byte, name string, lim uploadLimits) ([]byte, string, error) {
	switch {
	case len(b) >= 2 && b[0] == 0x1f && b[1] == 0x8b:
		zr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			return nil, name, vigil.Errorf(vigil.EINVALID, "%s: not a valid gzip file: %v", name, err)
		}
		zr.Multistream(false)
		out, err := io.ReadAll(io.LimitReader(zr, lim.MaxDecompressed+1))
		if err != nil {
			return nil, name, vigil.Errorf(vigil.EINVALID, "%s: corrupt gzip data: %v", name, err)
		}
		if int64(len(out)) > lim.MaxDecompressed {
			return nil, name, vigil.Errorf(vigil.EINVALID, "%s: expands to more than %d MiB", name, lim.MaxDecompressed>>20)
		}
		inner := strings.TrimSuffix(name, ".gz")
		if inner == name {
			inner = name + " (gunzipped)"
		}
		return out, inner, nil
	case len(b) >= 4 && string(b[:4]) == "PK\x03\x04":
		zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			return nil, name, vigil.Errorf(vigil.EINVALID, "%s: not a valid zip file: %v", name, err)
		}
		if len(zr.File) > lim.MaxEntries {
			return nil, name, vigil.Errorf(vigil.EINVALID, "%s: %d entries, more than the %d allowed", name, len(zr.File), lim.MaxEntries)
		}
		var files []*zip.File
		for _, f := range zr.File {
			if f.FileInfo().IsDir() || strings.HasPrefix(f.Name, "__MACOSX/") || strings.HasPrefix(path.Base(f.Name), "._") {
				continue
			}
			files = append(files, f)
		}
		if len(files) != 1 {
			return nil, name, vigil.Errorf(vigil.EINVALID, "%s: holds %d files; a zip upload must hold exactly one SBOM", name, len(files))
		}
		f := files[0]
		inner := name + "!" + displayName(f.Name)
		rc, err := f.Open()
		if err != nil {
			return nil, name, vigil.Errorf(vigil.EINVALID, "%s: %v", inner, err)
		}
		defer rc.Close()
		out, err := io.ReadAll(io.LimitReader(rc, lim.MaxDecompressed+1))
		if err != nil {
			return nil, name, vigil.Errorf(vigil.EINVALID, "%s: corrupt zip data: %v", inner, err)
		}
		if int64(len(out)) > lim.MaxDecompressed {
			return nil, name, vigil.Errorf(vigil.EINVALID, "%s: expands to more than %d MiB", inner, lim.MaxDecompressed>>20)
		}
		return out, inner, nil
	}
	return b, name, nil
}
