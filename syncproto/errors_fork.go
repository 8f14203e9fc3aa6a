package syncproto

// Codes of issue 14: a copied data folder, and an enrollment the server
// refuses before it uses the code up.
const (
	// CodeReplicaForked: the replica pushed a change with a sequence the
	// server already holds under different content. Two copies of one data
	// folder (a restored backup, a second laptop set up by copying) write
	// under one replica id; the second to push is a fork. It is the code of
	// each change the server did not take (status refused, nothing stored)
	// and of the fatal ErrorMsg that ends the session after the Ack. A
	// client that knows it takes a new replica id (POST /v1/fork) and
	// pushes those changes again under it.
	CodeReplicaForked Code = "replica_forked"
	// CodeOtherServer: an enrollment of a replica that holds the data of
	// another Hamlet server (Enroll's server_id). Refused before the code
	// is used: the code stays good for another data folder.
	CodeOtherServer Code = "other_server"
)

func init() {
	// What an agent that cannot take a new replica id (one built before
	// issue 14) shows: the changes it keeps in its rejected list.
	hints[CodeReplicaForked] = [2]string{
		"Thư mục dữ liệu này là bản sao của thư mục trên một máy khác (chép thư mục hoặc khôi phục bản lưu), nên máy chủ chưa nhận các thay đổi mới của nó. Không mất gì: chúng nằm trong danh sách bị từ chối (hamlet-agent rejected). Hãy cập nhật hamlet-agent lên bản mới nhất rồi đồng bộ lại; bản mới tự gửi lại chúng.",
		"This data folder is a copy of another laptop's folder (a copied folder or a restored backup), so the server did not take its new changes. Nothing is lost: they are in the refused list (hamlet-agent rejected). Update hamlet-agent to the latest release and sync again; it sends them again by itself.",
	}
	hints[CodeOtherServer] = [2]string{
		"Dữ liệu trên máy này thuộc một máy chủ Hamlet khác với máy chủ của mã vừa nhập. Không có gì thay đổi và mã chưa bị dùng. Để dùng máy chủ mới, hãy chạy lại lệnh enroll với cùng mã và một thư mục dữ liệu mới: hamlet-agent enroll --data-dir THƯ_MỤC_MỚI ...",
		"The data on this laptop belongs to another Hamlet server than the code's. Nothing was changed and the code is not used up. To use the new server, run enroll again with the same code and a new data folder: hamlet-agent enroll --data-dir NEW_FOLDER ...",
	}
}
