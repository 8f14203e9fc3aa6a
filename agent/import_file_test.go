package agent_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/agent/agenttest"
)

// TestImportOfABlankSheetSaysItIsEmpty: a sheet whose cells are all blank
// (a file of white space, an .xlsx whose list is on another worksheet) is
// an empty file, not one without a header row.
func TestImportOfABlankSheetSaysItIsEmpty(t *testing.T) {
	r := agenttest.New(t)
	for _, rows := range [][][]string{nil, {{}}, {{"", " "}, {"\t"}}} {
		_, err := r.Import(context.Background(), &agent.ImportSheet{Rows: rows}, agent.ImportOptions{})
		var ee *agent.ImportEmptyError
		require.ErrorAs(t, err, &ee)
		require.Contains(t, agent.MessageOf(err, "vi"), "Tệp trống")
	}
}
