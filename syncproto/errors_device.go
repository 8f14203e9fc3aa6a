package syncproto

// Codes of re-enrollment (issue 9 part 2: a revoked device loses nothing).
// They answer POST /v1/enroll only; like every code they are stable strings.
const (
	// CodeReplicaActive: the replica is still active on another device, so
	// enrolling it again would let two tokens push as one replica. The
	// code is not used up; the operator revokes the old device first.
	CodeReplicaActive Code = "replica_active"
	// CodeReplicaTeam: the replica belongs to another team than the code's
	// member; its records would fall outside the new scope.
	CodeReplicaTeam Code = "replica_team"
)

func init() {
	hints[CodeReplicaActive] = [2]string{
		"Máy này vẫn đang được đăng ký trên một thiết bị còn hoạt động, nên chưa thể đăng ký lại. Hãy nhờ cán bộ CNTT thu hồi thiết bị cũ (hamlet-server device revoke) rồi chạy lại hamlet-agent enroll với cùng mã. Mã chưa bị dùng và dữ liệu trên máy vẫn được giữ nguyên.",
		"This laptop's replica is still enrolled on an active device, so it cannot enroll again. Ask IT staff to revoke the old device (hamlet-server device revoke), then run hamlet-agent enroll again with the same code. The code is not used up and the data on this laptop is kept.",
	}
	hints[CodeReplicaTeam] = [2]string{
		"Dữ liệu trên máy này thuộc một tổ khác với tổ của mã đăng ký. Hãy xin mã đăng ký cho một thành viên của tổ đã dùng máy này; nếu máy chuyển hẳn sang tổ khác, hãy dùng một thư mục dữ liệu mới (--data-dir) cho tổ mới. Mã chưa bị dùng và dữ liệu trên máy vẫn được giữ nguyên.",
		"The data on this laptop belongs to another team than the code's member. Ask for a code for a member of the team that used this laptop; if the laptop moves to another team for good, use a new data directory (--data-dir) for the new team. The code is not used up and the data on this laptop is kept.",
	}
}
