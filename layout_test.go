package ancore_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"
)

const modulePath = "github.com/ancore/ancore"

// importRules maps each top-level folder of the module to the folders of the
// module its packages may import (docs/architecture.md, "Dependency
// direction"). A new top-level folder needs a row here. No folder lists cmd:
// nothing imports a command.
var importRules = map[string][]string{
	"crdt":     {"crdt"},
	"httpjson": {"httpjson"},
	// The relay's HTTP API, request and response bodies, shared by the relay
	// and its client in the node.
	"relayapi": {"crdt", "relayapi"},
	// The one wait-for-condition helper of tests and test helper packages.
	"testwait": {"testwait"},
	"p2p":      {"crdt", "p2p", "testwait"},
	"node":     {"crdt", "p2p", "httpjson", "relayapi", "node", "testwait"},
	"relay":    {"crdt", "p2p", "httpjson", "relayapi", "relay", "testwait"},
	"desktop":  {"crdt", "p2p", "httpjson", "node", "desktop", "testwait"},
	"cmd":      {"crdt", "p2p", "httpjson", "node", "relay", "desktop", "cmd/internal", "testwait"},
	// Load runs and other benchmark programs measure the parts from outside.
	"bench": {"crdt", "p2p", "relay", "relayapi", "bench", "testwait"},
}

// features are the capabilities built on the core (node/host.go), each a
// package of its own: none imports another, the core imports none, and
// only the programs wire them (through node/app).
var features = []string{"node/relaylink", "node/preview", "node/announce", "node/call"}

// importableOnlyFrom narrows importRules for single packages: the package may
// be imported only from the listed folders (and their subfolders).
var importableOnlyFrom = func() map[string][]string {
	m := map[string][]string{
		// The core sits above the parts it is made of (store, pipeline, ...):
		// only what is built on it (its local API, its features, the app
		// that wires them, its test helpers) and the programs import it.
		"node": append([]string{"cmd", "desktop", "node/api", "node/app", "node/nodetest"}, features...),
		// The local API and the app are wired by the programs; nothing built
		// on the core reaches into them.
		"node/api": {"cmd", "desktop", "node/app"},
		"node/app": {"cmd", "desktop"},
	}
	for _, f := range features {
		m[f] = []string{"cmd", "desktop", "node/app"}
	}
	return m
}()

// coreBudget is the most lines package node itself may hold, tests aside:
// a capability that would grow it past that goes into a package of its own.
const coreBudget = 3000

// relayForbidden reports whether a package must stay out of the relay's
// transitive dependencies: the relay runs headless on servers, without the
// desktop app or a GUI toolkit.
func relayForbidden(importPath string) bool {
	if rel, ok := ours(importPath); ok {
		return within(rel, "node") || within(rel, "desktop")
	}
	for _, s := range []string{"wailsapp", "gotk", "gtk"} {
		if strings.Contains(importPath, s) {
			return true
		}
	}
	return false
}

func isRelayRoot(rel string) bool {
	return within(rel, "relay") || within(rel, "cmd/ancore-relay")
}

type listedPackage struct {
	ImportPath   string
	Name         string
	Doc          string
	GoFiles      []string
	CgoFiles     []string
	Imports      []string
	TestImports  []string
	XTestImports []string
	DepOnly      bool
}

func (p listedPackage) testOnly() bool { return len(p.GoFiles)+len(p.CgoFiles) == 0 }

// goList runs go list in the module root (the test's working directory).
func goList(t *testing.T, args ...string) []listedPackage {
	t.Helper()
	const fields = "ImportPath,Name,Doc,GoFiles,CgoFiles,Imports,TestImports,XTestImports,DepOnly"
	args = append([]string{"list", "-json=" + fields}, args...)
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	var pkgs []listedPackage
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			return pkgs
		} else if err != nil {
			t.Fatalf("decode go list output: %v", err)
		}
		pkgs = append(pkgs, p)
	}
}

// ours returns the path of importPath relative to the module root.
func ours(importPath string) (rel string, ok bool) {
	if importPath == modulePath {
		return "", true
	}
	return strings.CutPrefix(importPath, modulePath+"/")
}

// within reports whether rel is folder or below it.
func within(rel, folder string) bool {
	return rel == folder || strings.HasPrefix(rel, folder+"/")
}

func topFolder(rel string) string {
	top, _, _ := strings.Cut(rel, "/")
	return top
}

func TestImportDirection(t *testing.T) {
	t.Parallel()
	all := goList(t, "-deps", "./...")
	imports := make(map[string][]string, len(all))
	for _, p := range all {
		imports[p.ImportPath] = p.Imports
	}

	for _, p := range all {
		rel, ok := ours(p.ImportPath)
		if !ok || p.DepOnly {
			continue
		}
		if rel == "" {
			// The module root holds only repository-wide tests like this one.
			if !p.testOnly() {
				t.Errorf("module root has non-test Go files; code belongs in the folders of docs/architecture.md")
			}
			continue
		}
		top := topFolder(rel)
		allowed, known := importRules[top]
		if !known {
			t.Errorf("%s: top-level folder %q has no row in importRules (layout_test.go); add it with the folders it may import", rel, top)
			continue
		}
		checkImports(t, rel, "", p.Imports, allowed)
		// crdt stays pure in its tests too: no store or node behind a test helper.
		if top == "crdt" {
			checkImports(t, rel, "test ", p.TestImports, allowed)
			checkImports(t, rel, "test ", p.XTestImports, allowed)
		}
		if isRelayRoot(rel) {
			checkRelayDeps(t, rel, p.ImportPath, imports)
		}
	}
}

func checkImports(t *testing.T, rel, kind string, imports, allowed []string) {
	t.Helper()
	for _, imp := range imports {
		impRel, ok := ours(imp)
		if !ok || impRel == rel {
			continue
		}
		if !slices.ContainsFunc(allowed, func(folder string) bool { return within(impRel, folder) }) {
			t.Errorf("%s %simports %s: %s/ may import only %v of this module (docs/architecture.md, \"Dependency direction\")",
				rel, kind, impRel, topFolder(rel), allowed)
			continue
		}
		if from, narrowed := importableOnlyFrom[impRel]; narrowed && !slices.ContainsFunc(from, func(folder string) bool { return within(rel, folder) }) {
			t.Errorf("%s %simports %s: %s may be imported only from %v", rel, kind, impRel, impRel, from)
		}
	}
}

// checkRelayDeps walks the transitive imports of root breadth-first and
// reports each forbidden package it reaches with the chain that pulls it in.
func checkRelayDeps(t *testing.T, rel, root string, imports map[string][]string) {
	t.Helper()
	importedBy := map[string]string{root: ""}
	queue := []string{root}
	for len(queue) > 0 {
		pkg := queue[0]
		queue = queue[1:]
		if relayForbidden(pkg) {
			var chain []string
			for p := pkg; p != ""; p = importedBy[p] {
				chain = append(chain, p)
			}
			slices.Reverse(chain)
			t.Errorf("%s depends on %s, which the relay must not: %s", rel, pkg, strings.Join(chain, " -> "))
			continue
		}
		for _, imp := range imports[pkg] {
			if _, seen := importedBy[imp]; !seen {
				importedBy[imp] = pkg
				queue = append(queue, imp)
			}
		}
	}
}

func TestPackageDocs(t *testing.T) {
	t.Parallel()
	for _, p := range goList(t, "./...") {
		if p.testOnly() {
			continue
		}
		switch {
		case p.Doc == "" && p.Name == "main":
			t.Errorf("%s has no package doc comment; add `// Command %s ...` above the package clause",
				p.ImportPath, p.ImportPath[strings.LastIndex(p.ImportPath, "/")+1:])
		case p.Doc == "":
			t.Errorf("%s has no package doc comment; add `// Package %s ...` above the package clause", p.ImportPath, p.Name)
		case p.Name != "main" && !startsWithPackageName(p.Doc, p.Name):
			t.Errorf("%s: package doc %q should start with \"Package %s\"", p.ImportPath, p.Doc, p.Name)
		}
	}
}

func startsWithPackageName(doc, name string) bool {
	rest, ok := strings.CutPrefix(doc, "Package "+name)
	if !ok {
		return false
	}
	r := []rune(rest)
	return len(r) == 0 || !(unicode.IsLetter(r[0]) || unicode.IsDigit(r[0]) || r[0] == '_')
}

func TestCoreStaysSmall(t *testing.T) {
	t.Parallel()
	pkgs := goList(t, "./node")
	if len(pkgs) != 1 {
		t.Fatalf("go list ./node: %d packages", len(pkgs))
	}
	lines := 0
	for _, name := range append(pkgs[0].GoFiles, pkgs[0].CgoFiles...) {
		raw, err := os.ReadFile(filepath.Join("node", name))
		if err != nil {
			t.Fatal(err)
		}
		lines += bytes.Count(raw, []byte("\n"))
	}
	if lines > coreBudget {
		t.Errorf("package node has %d lines without tests, over its budget of %d: move a capability into a package of its own on the host (docs/architecture.md, \"How a capability plugs in\")", lines, coreBudget)
	}
}
