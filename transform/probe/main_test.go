package probe

import (
	"fmt"
	"testing"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
)

func TestProbe(t *testing.T) {
	p := parser.New()
	for _, q := range []string{
		"SELECT account_id, count(*) AS orders, sum(amount) AS revenue, count(DISTINCT customer_id) AS buyers FROM `shop.public.orders` WHERE status = 'paid' AND x IN (1, 2.5, 'a') AND y IS NOT NULL GROUP BY account_id, tumble(created_at, '1m')",
		"SELECT a FROM t GROUP BY a, hop(c, '5m', '1m') HAVING count(*) > 1",
		"SELECT a, window_start FROM t WHERE \"a\" = 1 GROUP BY a",
		"SELECT a FROM t WHERE a = TRUE AND b = -1.50 AND c <> NULL",
	} {
		stmts, warns, err := p.ParseSQL(q)
		fmt.Println(err, warns, len(stmts))
		if err == nil {
			sel := stmts[0].(*ast.SelectStmt)
			fmt.Printf("%T %+v\n", sel.Where, sel.Where)
			for _, f := range sel.Fields.Fields {
				fmt.Printf("field %T %+v as=%v\n", f.Expr, f.Expr, f.AsName)
			}
			if sel.GroupBy != nil {
				for _, g := range sel.GroupBy.Items {
					fmt.Printf("group %T %+v\n", g.Expr, g.Expr)
				}
			}
			ts := sel.From.TableRefs.Left.(*ast.TableSource).Source.(*ast.TableName)
			fmt.Println("table", ts.Schema.O, ts.Name.O)
		}
	}
}
