package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
	"github.com/hamlet-vn/hamlet/server/servertest"
)

// TestOutsideHamletListsTheTeamsByName (helper 223): a record written for
// a hamlet the team does not cover was refused with the team's hamlets
// listed by code alone, "(32002-01, 32002-02, theo lần đồng bộ gần
// nhất)"; a volunteer knows them as "Khóm 1", as the rest of the agent
// names them (HamletLabel: "Khóm 1 (32002-01)"). Every command that
// checks the hamlet says them so, in both languages.
func TestOutsideHamletListsTheTeamsByName(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	id := l.mustAdd(ts.HamletsA[0], "Nguyễn Văn A")
	l.must("sync")
	other := ts.OtherHamletA
	labels := []string{}
	for _, h := range ts.HamletsA {
		labels = append(labels, enrolledHamletName(t, l, h)+" ("+h+")")
	}
	cat := schema.ReportCategories()[0].Code
	sheet := filepath.Join(t.TempDir(), "ho.csv")
	require.NoError(t, os.WriteFile(sheet, []byte("Ấp/khóm,Họ tên chủ hộ\n"+other+",Lê Văn C\n"), 0o600))
	for _, c := range []struct {
		name string
		args []string
	}{
		{"household add", []string{"household", "add", "--hamlet", other, "--head", "Trần Thị B"}},
		{"household edit", []string{"household", "edit", "--hamlet", other, id}},
		{"report add", []string{"report", "add", "--hamlet", other, "--category", cat, "--description", "Đèn đường hỏng"}},
		{"import", []string{"import", sheet}},
	} {
		for _, lang := range []struct{ lang, outside string }{
			{"", "không thuộc địa bàn tổ bạn phụ trách ("},
			{"en", "is not one your team covers ("},
		} {
			t.Run(c.name+"/lang="+lang.lang, func(t *testing.T) {
				l.lang = lang.lang
				r := l.run(c.args...)
				t.Logf("exit %d\n%s%s", r.code, r.stdout, r.stderr)
				require.NotEqual(t, 0, r.code)
				require.Contains(t, r.stderr, lang.outside)
				require.Contains(t, r.stderr, lang.outside+labels[0]+", "+labels[1], "the team's hamlets by name, with their codes")
			})
		}
	}
}

// TestHouseholdListAndShowNameTheHamlet (helper 223): household list's
// ẤP/KHÓM column and household show's hamlet row said the code alone,
// "32002-01"; the laptop knows it as "Khóm 1" and says so everywhere else
// (HamletLabel).
func TestHouseholdListAndShowNameTheHamlet(t *testing.T) {
	t.Parallel() // each builds its own server and laptops
	ts := servertest.Start(t)
	l := newLaptop(t, t.TempDir())
	l.enroll(ts)
	h := ts.HamletsA[0]
	id := l.mustAdd(h, "Nguyễn Văn A")
	label := enrolledHamletName(t, l, h) + " (" + h + ")"
	for _, lang := range []string{"", "en"} {
		l.lang = lang
		r := l.must("household", "list")
		t.Logf("household list:\n%s", r.stdout)
		require.Contains(t, r.stdout, label, "list names the hamlet")
		r = l.must("household", "show", id)
		t.Logf("household show:\n%s", r.stdout)
		require.Contains(t, r.stdout, label, "show names the hamlet")
	}
}
