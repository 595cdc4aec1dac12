package engine

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
)

// The .. operator under Config.MaxStringBytes.
//
// gopher-lua concatenates inside one VM instruction, with no hook a limit
// could use, and a loop of s = s .. s doubles a string each time: it
// passed two gigabytes between two looks of the memory watchdog. So every
// chunk is compiled with each chain of .. (a .. b .. c) turned into one
// call of concatFunc with the chain's operands, which sums their lengths
// before building anything, and otherwise does what .. does: numbers
// become strings, and an operand that is neither uses its __concat
// metamethod, from right to left.
//
// The function reaches each chunk through a local the rewritten chunk
// declares first, under a name no source can spell, so the calls cost an
// upvalue read rather than a global lookup. Its value is read from the
// sandbox's globals, under the same name, when the chunk starts.

// concatName is the name of the local (and of the global it is read from)
// holding the checked concatenation.
const concatName = "(concat)"

// rewriteConcat rewrites a parsed chunk in place as described above and
// returns it with the local declared first.
func rewriteConcat(chunk []ast.Stmt) []ast.Stmt {
	rewriteStmts(chunk)
	decl := &ast.LocalAssignStmt{Names: []string{concatName}, Exprs: []ast.Expr{concatIdent(1)}}
	decl.SetLine(1)
	decl.SetLastLine(1)
	return append([]ast.Stmt{decl}, chunk...)
}

func concatIdent(line int) *ast.IdentExpr {
	id := &ast.IdentExpr{Value: concatName}
	id.SetLine(line)
	id.SetLastLine(line)
	return id
}

func rewriteStmts(stmts []ast.Stmt) {
	for _, st := range stmts {
		switch s := st.(type) {
		case *ast.AssignStmt:
			rewriteExprs(s.Lhs)
			rewriteExprs(s.Rhs)
		case *ast.LocalAssignStmt:
			rewriteExprs(s.Exprs)
		case *ast.FuncCallStmt:
			s.Expr = rewriteExpr(s.Expr)
		case *ast.DoBlockStmt:
			rewriteStmts(s.Stmts)
		case *ast.WhileStmt:
			s.Condition = rewriteExpr(s.Condition)
			rewriteStmts(s.Stmts)
		case *ast.RepeatStmt:
			s.Condition = rewriteExpr(s.Condition)
			rewriteStmts(s.Stmts)
		case *ast.IfStmt:
			s.Condition = rewriteExpr(s.Condition)
			rewriteStmts(s.Then)
			rewriteStmts(s.Else)
		case *ast.NumberForStmt:
			s.Init = rewriteExpr(s.Init)
			s.Limit = rewriteExpr(s.Limit)
			s.Step = rewriteExpr(s.Step)
			rewriteStmts(s.Stmts)
		case *ast.GenericForStmt:
			rewriteExprs(s.Exprs)
			rewriteStmts(s.Stmts)
		case *ast.FuncDefStmt:
			s.Name.Func = rewriteExpr(s.Name.Func)
			s.Name.Receiver = rewriteExpr(s.Name.Receiver)
			rewriteStmts(s.Func.Stmts)
		case *ast.ReturnStmt:
			rewriteExprs(s.Exprs)
		}
	}
}

func rewriteExprs(exprs []ast.Expr) {
	for i, e := range exprs {
		exprs[i] = rewriteExpr(e)
	}
}

func rewriteExpr(e ast.Expr) ast.Expr {
	switch x := e.(type) {
	case *ast.StringConcatOpExpr:
		// a .. b .. c parses as a .. (b .. c): one call takes the chain.
		var args []ast.Expr
		var cur ast.Expr = x
		for {
			c, ok := cur.(*ast.StringConcatOpExpr)
			if !ok {
				args = append(args, rewriteExpr(cur))
				break
			}
			args = append(args, rewriteExpr(c.Lhs))
			cur = c.Rhs
		}
		// An operand is one value, as in (f()): a call or ... as the
		// last argument would otherwise pass all of its values.
		switch last := args[len(args)-1].(type) {
		case *ast.FuncCallExpr:
			last.AdjustRet = true
		case *ast.Comma3Expr:
			last.AdjustRet = true
		}
		call := &ast.FuncCallExpr{Func: concatIdent(x.Line()), Args: args}
		call.SetLine(x.Line())
		call.SetLastLine(x.LastLine())
		return call
	case *ast.AttrGetExpr:
		x.Object = rewriteExpr(x.Object)
		x.Key = rewriteExpr(x.Key)
	case *ast.TableExpr:
		for _, f := range x.Fields {
			f.Key = rewriteExpr(f.Key)
			f.Value = rewriteExpr(f.Value)
		}
	case *ast.FuncCallExpr:
		x.Func = rewriteExpr(x.Func)
		x.Receiver = rewriteExpr(x.Receiver)
		rewriteExprs(x.Args)
	case *ast.LogicalOpExpr:
		x.Lhs, x.Rhs = rewriteExpr(x.Lhs), rewriteExpr(x.Rhs)
	case *ast.RelationalOpExpr:
		x.Lhs, x.Rhs = rewriteExpr(x.Lhs), rewriteExpr(x.Rhs)
	case *ast.ArithmeticOpExpr:
		x.Lhs, x.Rhs = rewriteExpr(x.Lhs), rewriteExpr(x.Rhs)
	case *ast.UnaryMinusOpExpr:
		x.Expr = rewriteExpr(x.Expr)
	case *ast.UnaryNotOpExpr:
		x.Expr = rewriteExpr(x.Expr)
	case *ast.UnaryLenOpExpr:
		x.Expr = rewriteExpr(x.Expr)
	case *ast.FunctionExpr:
		rewriteStmts(x.Stmts)
	}
	return e
}

// concat is the checked .. over its arguments, the operands of one chain.
func (v *vm) concat(L *lua.LState) int {
	n := L.GetTop()
	var size int64
	plain := true
	for i := 1; i <= n; i++ {
		switch a := L.Get(i).(type) {
		case lua.LString:
			size += int64(len(a))
		case lua.LNumber:
			size += 24
		default:
			plain = false
		}
	}
	if plain {
		if size > v.reg.cfg.MaxStringBytes {
			v.concatTooLong(L, n)
		}
		v.built(L, size)
		var b strings.Builder
		b.Grow(int(size))
		for i := 1; i <= n; i++ {
			b.WriteString(lua.LVAsString(L.Get(i)))
		}
		L.Push(lua.LString(b.String()))
		return 1
	}
	// Some operand has (or lacks) a __concat metamethod: pair them from
	// the right as the VM does.
	rhs := L.Get(n)
	for i := n - 1; i >= 1; i-- {
		lhs := L.Get(i)
		if isConcatable(lhs) && isConcatable(rhs) {
			s := lua.LVAsString(lhs)
			r := lua.LVAsString(rhs)
			if int64(len(s)+len(r)) > v.reg.cfg.MaxStringBytes {
				v.concatTooLong(L, n)
			}
			v.built(L, int64(len(s)+len(r)))
			rhs = lua.LString(s + r)
			continue
		}
		mm := L.GetMetaField(lhs, "__concat")
		if mm == lua.LNil {
			mm = L.GetMetaField(rhs, "__concat")
		}
		if mm.Type() != lua.LTFunction {
			L.RaiseError("cannot perform concat operation between %s and %s", lhs.Type().String(), rhs.Type().String())
		}
		L.Push(mm)
		L.Push(lhs)
		L.Push(rhs)
		L.Call(2, 1)
		rhs = L.Get(-1)
		L.Pop(1)
	}
	L.Push(rhs)
	return 1
}

func isConcatable(lv lua.LValue) bool {
	t := lv.Type()
	return t == lua.LTString || t == lua.LTNumber
}

// concatTooLong raises the error of a chain whose result is over the cap,
// with the size it would have had.
func (v *vm) concatTooLong(L *lua.LState, n int) {
	var size int64
	for i := 1; i <= n; i++ {
		size += int64(len(lua.LVAsString(L.Get(i))))
	}
	v.tooLong(L, "concatenation (..)", size)
}
