package main

import (
	"context"
	"fmt"

	"github.com/hamlet-vn/hamlet/agent"
)

// reenrolled tells the volunteer that enrolling again kept everything: the
// same replica, its unsynced changes (sent, under their original author,
// at the next sync), and who the laptop now records for.
func (e *env) reenrolled(ctx context.Context, r *agent.Replica, prev, now *agent.Enrollment) {
	st, err := r.Status(ctx)
	if err != nil {
		return
	}
	fmt.Fprintf(e.stdout, e.tr("Đã đăng ký lại máy này; dữ liệu trên máy giữ nguyên (bản dữ liệu %s). %d thay đổi chưa gửi sẽ được gửi ở lần đồng bộ tới, vẫn mang tên người đã ghi.\n",
		"This laptop is enrolled again; its data is kept (replica %s). %d unsynced changes are sent at the next sync, still under the name of whoever recorded them.\n"),
		short(st.ReplicaID), st.Pending)
	if prev.MemberID != "" && prev.MemberID != now.MemberID {
		fmt.Fprintln(e.stdout, e.tr("Máy đã được giao cho thành viên khác của tổ: từ nay, bản ghi mới mang tên người nhận máy.",
			"The laptop was handed to another member of the team: new records now carry the new holder's name."))
	}
}
