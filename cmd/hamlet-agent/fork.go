package main

import (
	"fmt"

	"github.com/hamlet-vn/hamlet/agent"
	"github.com/hamlet-vn/hamlet/internal/i18n"
)

// forkSummary tells the volunteer that this data folder turned out to be a
// copy of another (issue 14) and that nothing was lost.
func (e *env) forkSummary(f *agent.ForkInfo) {
	if f == nil {
		return
	}
	if f.Renumbered == 0 {
		// "sent again 0 changes" read as if something had gone missing.
		fmt.Fprintf(e.stderr, e.tr(
			"Thư mục dữ liệu này là bản sao của thư mục trên một máy khác (chép thư mục hoặc khôi phục bản lưu). Máy này đã nhận mã bản dữ liệu mới (%s, trước là %s); máy chủ đã nhận mọi thay đổi của máy này, không cần gửi lại gì; dữ liệu của bản kia đã được tải về. Không mất gì, không cần làm gì thêm.\n",
			"This data folder is a copy of another laptop's folder (a copied folder or a restored backup). This laptop now has a new replica id (%s, was %s); the server had taken every change this laptop made, so nothing needed sending again; the other copy's data was fetched. Nothing is lost and there is nothing else to do.\n"),
			short(f.NewReplica), short(f.OldReplica))
		return
	}
	fmt.Fprintf(e.stderr, e.tr(
		"Thư mục dữ liệu này là bản sao của thư mục trên một máy khác (chép thư mục hoặc khôi phục bản lưu). Máy này đã nhận mã bản dữ liệu mới (%s, trước là %s) và đã gửi lại %s thay đổi chưa được nhận dưới mã mới, vẫn mang tên người đã ghi; dữ liệu của bản kia đã được tải về. Không mất gì, không cần làm gì thêm.\n",
		"This data folder is a copy of another laptop's folder (a copied folder or a restored backup). This laptop now has a new replica id (%s, was %s) and sent again, under it, %s changes the server had not taken, still under the name of whoever recorded them; the other copy's data was fetched. Nothing is lost and there is nothing else to do.\n"),
		short(f.NewReplica), short(f.OldReplica), i18n.Int(int64(f.Renumbered), e.lang))
}
