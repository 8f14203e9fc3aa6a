package main

import (
	"context"
	"errors"
	"flag"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/agent"
)

// Every agent.InputError the CLI builds from what the volunteer typed
// keeps it out of Error() (logs, --json's "detail"): it names what was
// asked for and the value's form (agent's TestInputErrorDetailHoldsNoInput
// covers the agent's own).
func TestCLIInputErrorDetailHoldsNoInput(t *testing.T) {
	t.Parallel()
	const cccd, name = "079123456789", "Trần Thị Hoa"
	dir := t.TempDir()
	enrollLocally(t, dir)
	e := &env{dataDir: dir}
	r, err := e.open(context.Background())
	require.NoError(t, err)
	defer r.Close()
	size := 100
	for _, c := range []struct {
		name, private, detail string
		build                 func() error
	}{
		{"a name as a skill", name, "tutoring_records.skill: not a skill (12 characters)", func() error { return unknownSkill(name) }},
		{"a photo file named for a person", cccd, "photo file: cannot open it (a name of 21 characters): no such file or directory", func() error {
			_, err := readPhotoFile(filepath.Join(t.TempDir(), name, "cccd_"+cccd+".jpg"))
			return err
		}},
		{"an ID number as a photo id", cccd, "photo id: none of this laptop's photos (12 digits)", func() error {
			_, err := e.photoID(context.Background(), r, cccd)
			return err
		}},
		{"a name with no field to set", name, "--set: no field=value (12 characters)", func() error {
			_, err := e.fields("households", flag.NewFlagSet("x", flag.ContinueOnError), nil, setFlags{name})
			return err
		}},
		{"no household", name, "--household: missing", func() error {
			_, err := e.householdArg(context.Background(), r, "")
			return err
		}},
		{"a photo size out of range", "100", "--photo-size: not in 320..4096", func() error {
			_, err := e.preparePhotos(nil, photoOpts{side: &size})
			return err
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			err := c.build()
			var ie *agent.InputError
			require.True(t, errors.As(err, &ie), "%v", err)
			require.Equal(t, "agent: "+c.detail, err.Error())
			require.NotContains(t, err.Error(), c.private)
		})
	}
}
