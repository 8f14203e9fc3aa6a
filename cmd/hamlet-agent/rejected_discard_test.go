package main

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/server/servertest"
)

// A volunteer drops, from the command line, the refused head's name of a
// household the server never took (the laptop's clock ran days ahead, so
// the household was registered "after tomorrow"). Without its head's name
// the household is no record: it goes, and the visit logged to it with it.
// The command used to say only "Done."; it says what went.
func TestRejectedDiscardSaysWhatWentWithIt(t *testing.T) {
	t.Parallel()
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.env = []string{"HAMLET_CLOCK_SHIFT=120h", "HAMLET_TEST=1"}
	l.enroll(ts)
	id := l.mustAdd(ts.HamletsA[0], "Trần Văn Mười")
	l.must("visit", "add", "--household", id)
	l.must("sync")

	rows := l.rejected()
	var head int64
	for _, x := range rows {
		if x.Row == id && x.Field == "head_name" {
			head = x.ID
		}
	}
	require.NotZero(t, head, "the household is refused: %+v", rows)

	r := l.must("rejected", "discard", strconv.FormatInt(head, 10))
	require.Contains(t, r.stdout, "Máy chủ chưa nhận hộ "+short(id)+": hộ và 1 bản ghi của hộ đã bị xóa khỏi máy này.")
	require.Contains(t, l.must("rejected").stdout, "Không có thay đổi bị từ chối.", "the household's and the visit's refusals went with them")
}
