package engine

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// compile turns a function's source into a prototype that every state can
// run (a *lua.FunctionProto is immutable and shared). The chunk is named
// after the function, so Lua's messages read "name:LINE: …". It also
// checks that the handler is defined as a global at the top level, which
// is where every run looks for it.
func compile(name, source, handler string) (*lua.FunctionProto, error) {
	chunk, err := parse.Parse(strings.NewReader(source), name)
	if err != nil {
		var pe *parse.Error
		if errors.As(err, &pe) {
			ce := &CompileError{Function: name, Line: pe.Pos.Line, Column: pe.Pos.Column, Message: pe.Message}
			if pe.Pos.Line == parse.EOF {
				ce.Line, ce.Column = strings.Count(source, "\n")+1, 0
				ce.Message = "unexpected end of source: " + pe.Message
			} else if pe.Token != "" {
				ce.Message = fmt.Sprintf("%s near '%s'", pe.Message, pe.Token)
			}
			return nil, ce
		}
		return nil, &CompileError{Function: name, Message: err.Error()}
	}
	proto, err := lua.Compile(rewriteConcat(chunk), name)
	if err != nil {
		var ce *lua.CompileError
		if errors.As(err, &ce) {
			return nil, &CompileError{Function: name, Line: ce.Line, Message: ce.Message}
		}
		return nil, &CompileError{Function: name, Message: err.Error()}
	}
	if err := checkHandler(chunk, name, handler); err != nil {
		return nil, err
	}
	// Lua 5.1's compatibility `arg` table is built on every call of a
	// vararg function that does not use `...`; the main chunk is one, but
	// it has no local named arg to reach it by, so the table (the largest
	// allocation of a run) would only be garbage.
	proto.IsVarArg &^= lua.VarArgNeedsArg
	compact(proto)
	return proto, nil
}

// compact copies a prototype's slices (and its nested functions') into
// slices of their own length. The compiler hands out views of buffers of
// 1,024 instructions and lines, so every function literal would keep some
// 14 KB alive for as long as its version is cached: 50 MB for a thousand
// small functions.
func compact(p *lua.FunctionProto) {
	p.Code = slices.Clone(p.Code)
	p.DbgSourcePositions = slices.Clone(p.DbgSourcePositions)
	p.Constants = slices.Clone(p.Constants)
	p.DbgLocals = slices.Clone(p.DbgLocals)
	p.DbgCalls = slices.Clone(p.DbgCalls)
	p.DbgUpvalues = slices.Clone(p.DbgUpvalues)
	p.FunctionPrototypes = slices.Clone(p.FunctionPrototypes)
	for _, child := range p.FunctionPrototypes {
		compact(child)
	}
}

// checkHandler looks for `function NAME(…)` or `NAME = …` among the
// chunk's top-level statements.
func checkHandler(chunk []ast.Stmt, name, handler string) error {
	local := 0
	for _, st := range chunk {
		switch s := st.(type) {
		case *ast.FuncDefStmt:
			if id, ok := s.Name.Func.(*ast.IdentExpr); ok && s.Name.Receiver == nil && id.Value == handler {
				return nil
			}
		case *ast.AssignStmt:
			for _, lhs := range s.Lhs {
				if id, ok := lhs.(*ast.IdentExpr); ok && id.Value == handler {
					return nil
				}
			}
		case *ast.LocalAssignStmt:
			for _, n := range s.Names {
				if n == handler {
					local = s.Line()
				}
			}
		}
	}
	if local > 0 {
		return &CompileError{Function: name, Line: local, Message: fmt.Sprintf("the handler %q is local; define it as a global: function %s(input, ctx)", handler, handler)}
	}
	return &CompileError{Function: name, Message: fmt.Sprintf("no handler: define function %s(input, ctx) at the top level of the source", handler)}
}
