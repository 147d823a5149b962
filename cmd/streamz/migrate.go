package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/ast"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const (
	clockzPath  = "github.com/zoobzio/clockz"
	streamzPath = "github.com/zoobzio/streamz"
)

// sameNamed are the clockz names that streamz has under the same name and
// with the same meaning wherever they appear. FakeClock is not among them:
// streamz's FakeClock maps only behind a pointer (see rewriteSelector).
var sameNamed = map[string]bool{
	"Clock":          true,
	"Timer":          true,
	"Ticker":         true,
	"RealClock":      true,
	"NewFakeClock":   true,
	"NewFakeClockAt": true,
}

var migrateCommand = command{
	name:     "migrate",
	synopsis: "[-l] [-w] PATH ...",
	about: "Rewrites Go files, tests included, from the clock of\n" +
		"github.com/zoobzio/clockz to streamz's own: clockz.NewFakeClock,\n" +
		"NewFakeClockAt, RealClock, Clock, Timer, Ticker and *FakeClock become\n" +
		"streamz's. streamz is qualified by the name the file already imports it\n" +
		"under, or imported as streamz; in a file of package streamz itself that\n" +
		"does not import it, the names go unqualified. The clockz import is\n" +
		"removed once nothing uses it. Rewritten files are gofmt'd; files\n" +
		"without clockz are left untouched.\n\n" +
		"By default it prints a diff of what it would change; -l lists the files\n" +
		"instead, and -w writes them. A PATH is a file, a folder (its .go files)\n" +
		"or a folder followed by /... (every folder below too, except those\n" +
		"named testdata or vendor, or starting with . or _). Running it again\n" +
		"changes nothing.\n\n" +
		"A clockz use with no streamz equivalent is left as it is and reported\n" +
		"as FILE:LINE:COLUMN on stderr. Exit status: 0 when every clockz use was\n" +
		"rewritten; 1 when one was left, or a file could not be read, parsed or\n" +
		"written; 2 usage error.",
	example: "streamz migrate -w ./...",
}

func runMigrate(args []string, stdout, stderr io.Writer) int {
	c := migrateCommand
	fs := flag.NewFlagSet("migrate", flag.ContinueOnError)
	list := fs.Bool("l", false, "list the files that would change, instead of printing a diff")
	write := fs.Bool("w", false, "write the changes to the files, instead of printing a diff")
	if ok, status := c.parse(fs, args, stdout, stderr); !ok {
		return status
	}
	if fs.NArg() == 0 {
		return c.fail(stderr, "missing PATH")
	}
	status := exitOK
	fail := func(err error) {
		fmt.Fprintf(stderr, "streamz migrate: %v\n", err)
		status = exitIO
	}
	seen := map[string]bool{}
	for _, arg := range fs.Args() {
		files, err := goFiles(arg)
		if err != nil {
			fail(err)
		}
		for _, name := range files {
			if seen[name] {
				continue
			}
			seen[name] = true
			src, err := os.ReadFile(name)
			if err != nil {
				fail(err)
				continue
			}
			out, problems, err := migrateSource(name, src)
			if err != nil {
				fail(err)
				continue
			}
			for _, p := range problems {
				fmt.Fprintf(stderr, "%s: %s\n", p.pos, p.msg)
				status = exitIO
			}
			if bytes.Equal(src, out) {
				continue
			}
			if *list {
				fmt.Fprintln(stdout, name)
			}
			if *write {
				// WriteFile keeps an existing file's permissions.
				if err := os.WriteFile(name, out, 0o666); err != nil {
					fail(err)
				}
			}
			if !*list && !*write {
				slashed := filepath.ToSlash(name)
				stdout.Write(unifiedDiff(slashed+".orig", src, slashed, out))
			}
		}
	}
	return status
}

// goFiles returns the files that arg names: arg itself if it is a file;
// the .go files in it if it is a folder; and with a trailing "/...", those
// of the folder and of every folder below it that the go command would
// also walk into. Files whose names start with "." are skipped, as gofmt
// skips them.
func goFiles(arg string) ([]string, error) {
	root, recursive := arg, false
	if arg == "..." || strings.HasSuffix(arg, "/...") || strings.HasSuffix(arg, string(filepath.Separator)+"...") {
		root, recursive = filepath.Clean(strings.TrimSuffix(arg, "...")+"."), true
	}
	info, err := os.Stat(root)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		if recursive {
			return nil, fmt.Errorf("%s: not a folder", root)
		}
		return []string{root}, nil
	}
	var files []string
	err = filepath.WalkDir(root, func(name string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			return err
		case d.IsDir() && name == root:
			return nil
		case d.IsDir():
			base := d.Name()
			if !recursive || base == "testdata" || base == "vendor" || strings.HasPrefix(base, ".") || strings.HasPrefix(base, "_") {
				return filepath.SkipDir
			}
		case d.Type().IsRegular() && strings.HasSuffix(d.Name(), ".go") && !strings.HasPrefix(d.Name(), "."):
			files = append(files, name)
		}
		return nil
	})
	return files, err
}

// problem is a clockz use that migrate left as it was.
type problem struct {
	pos token.Position
	msg string
}

// edit replaces src[start:end] with text.
type edit struct {
	start, end int
	text       string
}

// migration is the rewriting of one file.
type migration struct {
	fset     *token.FileSet
	file     *ast.File
	src      []byte
	edits    []edit
	problems []problem
	// qualifier is what the rewritten names are qualified with: the name
	// the file imports streamz under, "streamz" when it must be imported,
	// or "" in package streamz itself or under a dot import.
	qualifier string
	// addImport says that the file does not import streamz yet.
	addImport bool
	// blocked, when not empty, says why no name can be rewritten.
	blocked string
	// declared holds the names that the file declares itself, and which
	// might therefore shadow a rewritten name.
	declared map[string]token.Pos
	// qualified says that a rewritten name uses qualifier, so the import
	// is needed.
	qualified bool
	// left counts, per local name of clockz, the uses left as they were.
	left map[string]int
}

// migrateSource returns src rewritten from clockz to streamz, gofmt'd, and
// the clockz uses left as they were. A file that does not import clockz,
// or in which nothing could be rewritten, is returned as it was.
func migrateSource(filename string, src []byte) ([]byte, []problem, error) {
	fset := token.NewFileSet()
	file, err := parser.ParseFile(fset, filename, src, parser.ParseComments)
	if err != nil {
		return nil, nil, err
	}
	var clockzSpecs []*ast.ImportSpec
	for _, spec := range file.Imports {
		if importPath(spec) == clockzPath {
			clockzSpecs = append(clockzSpecs, spec)
		}
	}
	if len(clockzSpecs) == 0 {
		return src, nil, nil
	}

	m := &migration{fset: fset, file: file, src: src, declared: declaredNames(file), left: map[string]int{}}
	m.chooseQualifier()
	clockzNames := map[string]bool{}
	for _, spec := range clockzSpecs {
		if name := localName(spec); name != "_" && name != "." {
			clockzNames[name] = true
		}
	}
	var stack []ast.Node
	ast.Inspect(file, func(n ast.Node) bool {
		if n == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		if sel, ok := n.(*ast.SelectorExpr); ok {
			// An identifier that the parser resolved is declared in the
			// file, so it is not the package even if named like it.
			if x, ok := sel.X.(*ast.Ident); ok && clockzNames[x.Name] && x.Obj == nil {
				m.rewriteSelector(sel, x.Name, stack[len(stack)-1])
			}
		}
		stack = append(stack, n)
		return true
	})
	m.rewriteImports(clockzSpecs)
	if len(m.edits) == 0 {
		return src, m.problems, nil
	}
	out, err := format.Source(m.apply())
	if err != nil {
		return nil, nil, fmt.Errorf("%s: formatting the rewritten file: %v", filename, err)
	}
	return out, m.problems, nil
}

// chooseQualifier sets qualifier, addImport and blocked.
func (m *migration) chooseQualifier() {
	for _, spec := range m.file.Imports {
		if importPath(spec) == streamzPath && localName(spec) != "_" {
			m.qualifier = localName(spec)
			if m.qualifier == "." {
				m.qualifier = ""
			}
			return
		}
	}
	if m.file.Name.Name == "streamz" {
		// A package streamz that does not import streamz is streamz.
		return
	}
	m.qualifier, m.addImport = "streamz", true
	for _, spec := range m.file.Imports {
		if localName(spec) == "streamz" {
			m.blocked = fmt.Sprintf("the file imports %s as streamz", importPath(spec))
			return
		}
	}
}

// rewriteSelector rewrites sel, a use of a clockz name qualified by the
// import name pkg, whose parent node is parent.
func (m *migration) rewriteSelector(sel *ast.SelectorExpr, pkg string, parent ast.Node) {
	name := sel.Sel.Name
	star, _ := parent.(*ast.StarExpr)
	switch {
	case sameNamed[name] || name == "FakeClock" && star != nil && star.X == sel:
		if reason := m.whyNot(name); reason != "" {
			m.leave(sel, pkg, fmt.Sprintf("%s.%s left as it is: %s", pkg, name, reason))
			return
		}
		text := name
		if m.qualifier != "" {
			text = m.qualifier + "." + name
			m.qualified = true
		}
		m.replace(sel.Pos(), sel.End(), text)
	case name == "FakeClock":
		m.leave(sel, pkg, fmt.Sprintf("%s.FakeClock not behind a pointer has no streamz equivalent: streamz's FakeClock works only as the *FakeClock that NewFakeClock or NewFakeClockAt returns", pkg))
	default:
		m.leave(sel, pkg, fmt.Sprintf("%s.%s has no streamz equivalent", pkg, name))
	}
}

// whyNot says why name cannot be rewritten to streamz's here, or "".
func (m *migration) whyNot(name string) string {
	if m.blocked != "" {
		return m.blocked
	}
	shadow := m.qualifier
	if shadow == "" {
		shadow = name
	}
	if pos, ok := m.declared[shadow]; ok {
		return fmt.Sprintf("the file declares its own %s, at line %d", shadow, m.fset.Position(pos).Line)
	}
	return ""
}

func (m *migration) leave(n ast.Node, pkg, msg string) {
	m.left[pkg]++
	m.problems = append(m.problems, problem{m.fset.Position(n.Pos()), msg})
}

// rewriteImports removes the clockz imports that nothing uses any more,
// and adds streamz's if a rewritten name needs it: in place of a removed
// clockz import, or beside one that stays.
func (m *migration) rewriteImports(specs []*ast.ImportSpec) {
	needed := m.qualified && m.addImport
	var kept *ast.ImportSpec
	for _, spec := range specs {
		name := localName(spec)
		switch {
		case name == ".":
			m.problems = append(m.problems, problem{m.fset.Position(spec.Pos()),
				"dot import of clockz left as it is: import it by name, and run migrate again"})
			kept = spec
		case m.left[name] > 0:
			kept = spec
		case needed:
			m.replace(spec.Pos(), spec.End(), strconv.Quote(streamzPath))
			needed = false
		default:
			m.removeImport(spec)
		}
	}
	if needed {
		end := kept.End()
		if kept.Comment != nil {
			end = kept.Comment.End()
		}
		decl := m.importDecl(kept)
		line := "\n" + strconv.Quote(streamzPath)
		if !decl.Lparen.IsValid() {
			end, line = decl.End(), "\nimport "+strconv.Quote(streamzPath)
		}
		m.replace(end, end, line)
	}
}

// removeImport deletes spec, with its comments and its line, or its whole
// import declaration when it is the only import there.
func (m *migration) removeImport(spec *ast.ImportSpec) {
	var start, end token.Pos
	if decl := m.importDecl(spec); len(decl.Specs) == 1 {
		start, end = decl.Pos(), decl.End()
		if decl.Doc != nil {
			start = decl.Doc.Pos()
		}
	} else {
		start, end = spec.Pos(), spec.End()
		if spec.Doc != nil {
			start = spec.Doc.Pos()
		}
		if spec.Comment != nil {
			end = spec.Comment.End()
		}
	}
	// Take the whole line when nothing else is on it.
	s, e := m.offset(start), m.offset(end)
	lineStart := bytes.LastIndexByte(m.src[:s], '\n') + 1
	lineEnd := len(m.src)
	if i := bytes.IndexByte(m.src[e:], '\n'); i >= 0 {
		lineEnd = e + i + 1
	}
	if len(bytes.TrimSpace(m.src[lineStart:s])) == 0 && len(bytes.TrimSpace(m.src[e:lineEnd])) == 0 {
		s, e = lineStart, lineEnd
	}
	m.edits = append(m.edits, edit{s, e, ""})
}

func (m *migration) importDecl(spec *ast.ImportSpec) *ast.GenDecl {
	for _, d := range m.file.Decls {
		if decl, ok := d.(*ast.GenDecl); ok && slices.Contains(decl.Specs, ast.Spec(spec)) {
			return decl
		}
	}
	panic("streamz migrate: import spec outside the file's import declarations")
}

func (m *migration) offset(p token.Pos) int { return m.fset.Position(p).Offset }

func (m *migration) replace(start, end token.Pos, text string) {
	m.edits = append(m.edits, edit{m.offset(start), m.offset(end), text})
}

// apply returns src with the edits made. The edits do not overlap.
func (m *migration) apply() []byte {
	slices.SortFunc(m.edits, func(a, b edit) int { return a.start - b.start })
	var out bytes.Buffer
	done := 0
	for _, e := range m.edits {
		out.Write(m.src[done:e.start])
		out.WriteString(e.text)
		done = e.end
	}
	out.Write(m.src[done:])
	return out.Bytes()
}

func importPath(spec *ast.ImportSpec) string {
	p, err := strconv.Unquote(spec.Path.Value)
	if err != nil {
		return "" // the parser accepts only well-formed paths
	}
	return p
}

// localName is the name spec's package goes by in the file. For an import
// without a name, that is the package's own name, taken to be the last
// element of its path, as it is for both clockz and streamz.
func localName(spec *ast.ImportSpec) string {
	if spec.Name != nil {
		return spec.Name.Name
	}
	return path.Base(importPath(spec))
}

// declaredNames returns the names that file declares in a scope a
// rewritten name could be in, each with the position of one declaration.
// Struct fields, interface methods, methods and labels are left out: they
// never shadow a package-level name.
func declaredNames(file *ast.File) map[string]token.Pos {
	members := map[*ast.Field]bool{}
	ast.Inspect(file, func(n ast.Node) bool {
		var fields *ast.FieldList
		switch t := n.(type) {
		case *ast.StructType:
			fields = t.Fields
		case *ast.InterfaceType:
			fields = t.Methods
		}
		if fields != nil {
			for _, f := range fields.List {
				members[f] = true
			}
		}
		return true
	})
	declared := map[string]token.Pos{}
	ast.Inspect(file, func(n ast.Node) bool {
		id, ok := n.(*ast.Ident)
		if !ok || id.Obj == nil || id.Obj.Kind == ast.Lbl || id.Obj.Kind == ast.Pkg {
			return true
		}
		if f, ok := id.Obj.Decl.(*ast.Field); ok && members[f] {
			return true
		}
		if _, ok := declared[id.Name]; !ok {
			declared[id.Name] = id.Obj.Pos()
		}
		return true
	})
	return declared
}

// unifiedDiff returns the differences between the lines of old and new in
// the unified format that gofmt -d prints, with three lines of context, or
// nothing if they are equal.
func unifiedDiff(oldName string, old []byte, newName string, new []byte) []byte {
	if bytes.Equal(old, new) {
		return nil
	}
	a, b := diffLines(old), diffLines(new)
	ops := lineOps(a, b)
	var out bytes.Buffer
	fmt.Fprintf(&out, "diff %s %s\n--- %s\n+++ %s\n", oldName, newName, oldName, newName)
	const context = 3
	// near[i] says that ops[i] is within context lines of a change.
	near := make([]bool, len(ops))
	for i, op := range ops {
		if op.kind != ' ' {
			for j := max(0, i-context); j <= min(len(ops)-1, i+context); j++ {
				near[j] = true
			}
		}
	}
	ai, bi := 0, 0 // lines of a and b before ops[i]
	for i := 0; i < len(ops); {
		if !near[i] {
			ai, bi = ai+ops[i].a, bi+ops[i].b
			i++
			continue
		}
		var hunk bytes.Buffer
		startA, startB, countA, countB := ai, bi, 0, 0
		for ; i < len(ops) && near[i]; i++ {
			hunk.WriteByte(ops[i].kind)
			hunk.WriteString(ops[i].line)
			countA, countB = countA+ops[i].a, countB+ops[i].b
		}
		ai, bi = ai+countA, bi+countB
		// Lines count from 1; an empty side names the line before it.
		if countA > 0 {
			startA++
		}
		if countB > 0 {
			startB++
		}
		fmt.Fprintf(&out, "@@ -%d,%d +%d,%d @@\n", startA, countA, startB, countB)
		out.Write(hunk.Bytes())
	}
	return out.Bytes()
}

// diffLines splits text into lines, each with its "\n". A last line
// without one gets it, followed by the marker diff tools use for that.
func diffLines(text []byte) []string {
	lines := strings.SplitAfter(string(text), "\n")
	if lines[len(lines)-1] == "" {
		return lines[:len(lines)-1]
	}
	lines[len(lines)-1] += "\n\\ No newline at end of file\n"
	return lines
}

// diffOp is one line of a diff: kept (' '), removed ('-') or added ('+').
// a and b count the lines it takes from each side.
type diffOp struct {
	kind byte
	line string
	a, b int
}

// lineOps returns a shortest edit script from a to b, found with Myers'
// O(ND) algorithm: round d finds, for each diagonal k = x - y, the
// furthest point reachable with d insertions and deletions.
func lineOps(a, b []string) []diffOp {
	n, m := len(a), len(b)
	offset := n + m + 1
	v := make([]int, 2*offset+1) // furthest x on diagonal k, at v[offset+k]
	// trace[d] holds v for the diagonals -d..d after round d.
	var trace [][]int
	for d := 0; ; d++ {
		for k := -d; k <= d; k += 2 {
			var x int
			if k == -d || k != d && v[offset+k-1] < v[offset+k+1] {
				x = v[offset+k+1] // an insertion from diagonal k+1
			} else {
				x = v[offset+k-1] + 1 // a deletion from diagonal k-1
			}
			for y := x - k; x < n && y < m && a[x] == b[y]; y++ {
				x++
			}
			v[offset+k] = x
			if x >= n && x-k >= m {
				trace = append(trace, slices.Clone(v[offset-d:offset+d+1]))
				return backtrack(trace, a, b)
			}
		}
		trace = append(trace, slices.Clone(v[offset-d:offset+d+1]))
	}
}

// backtrack walks trace back from the end of a and b to their start, and
// returns the edit script in order.
func backtrack(trace [][]int, a, b []string) []diffOp {
	var ops []diffOp
	x, y := len(a), len(b)
	for d := len(trace) - 1; d > 0; d-- {
		prev := trace[d-1] // diagonal k at prev[k+d-1]
		k := x - y
		prevK := k - 1
		if k == -d || k != d && prev[k-1+d-1] < prev[k+1+d-1] {
			prevK = k + 1
		}
		prevX := prev[prevK+d-1]
		prevY := prevX - prevK
		for x > prevX && y > prevY {
			x, y = x-1, y-1
			ops = append(ops, diffOp{' ', a[x], 1, 1})
		}
		if prevK == k+1 {
			ops = append(ops, diffOp{'+', b[prevY], 0, 1})
		} else {
			ops = append(ops, diffOp{'-', a[prevX], 1, 0})
		}
		x, y = prevX, prevY
	}
	for x > 0 {
		x, y = x-1, y-1
		ops = append(ops, diffOp{' ', a[x], 1, 1})
	}
	slices.Reverse(ops)
	return ops
}
