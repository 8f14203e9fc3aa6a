package schema_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/hamlet-vn/hamlet/schema"
)

func TestValidationErrorMessages(t *testing.T) {
	tests := []struct {
		err    schema.ValidationError
		vi, en string
	}{
		{schema.ValidationError{Table: "households", Field: "phone", Code: schema.CodeInvalidPhone},
			"Số điện thoại không hợp lệ: nhập 10 chữ số, bắt đầu bằng 0 (ví dụ 0912345678).",
			"Invalid phone number: enter 10 digits starting with 0 (for example 0912345678)."},
		{schema.ValidationError{Table: "households", Field: "head_name", Code: schema.CodeRequired},
			"Chưa nhập tên chủ hộ: hãy nhập rồi lưu lại.",
			"Head of household's name is missing: fill it in and save again."},
		{schema.ValidationError{Table: "households", Field: "members_count", Code: schema.CodeOutOfRange},
			"Số nhân khẩu phải từ 1 đến 50: hãy nhập lại.",
			"Number of household members must be between 1 and 50: please enter it again."},
		{schema.ValidationError{Table: "field_reports", Field: "description", Code: schema.CodeTooLong},
			"Nội dung phản ánh quá dài: tối đa 4000 ký tự, hãy rút gọn.",
			"Description is too long: at most 4000 characters, please shorten it."},
		{schema.ValidationError{Table: "tutoring_records", Field: "skill", Code: schema.CodeUnknownEnum},
			"Kỹ năng không có trong danh mục: hãy chọn lại từ danh sách. Nếu danh sách thiếu, hãy cập nhật Hamlet.",
			"Skill is not in the list: pick one from the list. If the list lacks it, update Hamlet."},
		{schema.ValidationError{Table: "visits", Field: "visited_on", Code: schema.CodeInvalidDate},
			"Ngày thăm hộ không hợp lệ: nhập ngày theo dạng năm-tháng-ngày, ví dụ 2025-07-01.",
			"Visit date is not a valid date: use year-month-day, for example 2025-07-01."},
		{schema.ValidationError{Table: "orders", Code: schema.CodeUnknownTable},
			"Máy chủ không nhận dạng được dữ liệu này: hãy cập nhật Hamlet lên phiên bản mới nhất rồi đồng bộ lại.",
			"The server does not recognise this data: update Hamlet to the latest version and sync again."},
	}
	for _, tt := range tests {
		t.Run(tt.err.Field+"/"+tt.err.Code, func(t *testing.T) {
			require.Equal(t, tt.vi, tt.err.Message("vi"))
			require.Equal(t, tt.vi, tt.err.Message(""), "Vietnamese is the default")
			require.Equal(t, tt.vi, tt.err.Message("km"), "untranslated languages fall back to Vietnamese")
			require.Equal(t, tt.en, tt.err.Message("en"))
			require.Equal(t, tt.en, tt.err.Message("en-GB"))
		})
	}

	// Every code has a message in both languages, including for a field the
	// labels do not know.
	codes := []string{schema.CodeRequired, schema.CodeWrongType, schema.CodeTooLong, schema.CodeOutOfRange,
		schema.CodeUnknownEnum, schema.CodeInvalidPhone, schema.CodeInvalidDate, schema.CodeInvalidUUID,
		schema.CodeInvalidHamlet, schema.CodeUnknownField, schema.CodeUnknownTable}
	for _, c := range codes {
		for _, f := range []string{"notes", "mystery"} {
			e := schema.ValidationError{Table: "visits", Field: f, Code: c}
			require.NotEmpty(t, e.Message("vi"))
			require.NotEmpty(t, e.Message("en"))
			require.NotEqual(t, e.Message("vi"), e.Message("en"))
		}
	}

	e := &schema.ValidationError{Table: "households", Field: "members_count", Code: schema.CodeOutOfRange, Detail: "not in 1..50"}
	require.Equal(t, "schema: households.members_count: out_of_range: not in 1..50", e.Error())
}
